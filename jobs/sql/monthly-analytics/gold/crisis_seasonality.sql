-- Crises per month, from the first month of data up to the end of the period (the whole history
-- up to period_end, so a monthly run still sees the same calendar month of earlier years):
-- crisis_count = crises that started in the month; patients_monitored = patients with readings in
-- the month; crises_per_100_patients = 100 * crisis_count / patients_monitored;
-- seasonal_factor = seasonal_factor(mean rate of the months with the same calendar month,
-- mean rate of all months) (SPEC section 4); crisis_trend = trend_direction of the rate over this
-- month and the 5 before.
-- medallion: primary_key = month
-- medallion: enum crisis_trend = up, down, stable
WITH monitored AS (
    SELECT
        CAST(date_trunc('month', ts) AS DATE) AS month,
        COUNT(DISTINCT patient_id) AS patients_monitored
    FROM vitals
    WHERE ts < CAST(${period_end} AS TIMESTAMP)
    GROUP BY CAST(date_trunc('month', ts) AS DATE)
),
started AS (
    SELECT CAST(date_trunc('month', start_ts) AS DATE) AS month, COUNT(*) AS crisis_count
    FROM crises
    WHERE start_ts < CAST(${period_end} AS TIMESTAMP)
    GROUP BY CAST(date_trunc('month', start_ts) AS DATE)
),
rates AS (
    SELECT
        m.month,
        CAST(date_part('month', m.month) AS INT) AS calendar_month,
        CAST(COALESCE(s.crisis_count, 0) AS BIGINT) AS crisis_count,
        CAST(m.patients_monitored AS BIGINT) AS patients_monitored,
        100.0 * COALESCE(s.crisis_count, 0) / m.patients_monitored AS crises_per_100_patients
    FROM monitored m
    LEFT JOIN started s ON s.month = m.month
),
windowed AS (
    SELECT
        *,
        AVG(crises_per_100_patients) OVER (PARTITION BY calendar_month) AS calendar_month_avg,
        AVG(crises_per_100_patients) OVER () AS all_months_avg,
        array_agg(crises_per_100_patients) OVER (
            ORDER BY month ROWS BETWEEN 5 PRECEDING AND CURRENT ROW
        ) AS last_6_rates
    FROM rates
)
SELECT
    month,
    calendar_month,
    crisis_count,
    patients_monitored,
    crises_per_100_patients,
    seasonal_factor(calendar_month_avg, all_months_avg) AS seasonal_factor,
    trend_direction(last_6_rates, ${crisis_trend_threshold}) AS crisis_trend,
    now() AS last_updated
FROM windowed
