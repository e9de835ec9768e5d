-- The crises overlapping each reported patient-week, for the HTML reports.
SELECT
    w.patient_id,
    w.week_start,
    c.start_ts,
    c.end_ts,
    c.severity,
    c.pain_score
FROM (SELECT DISTINCT patient_id, week_start FROM patient_weeks) w
JOIN crises c
  ON c.patient_id = w.patient_id
 AND c.start_ts < CAST(w.week_start AS TIMESTAMP) + INTERVAL '7 days'
 AND COALESCE(c.end_ts, CAST(w.week_start AS TIMESTAMP) + INTERVAL '7 days')
     > CAST(w.week_start AS TIMESTAMP)
