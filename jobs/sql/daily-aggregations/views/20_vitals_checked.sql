-- Each reading with `in_range`: false when any vital is outside its physical range (a sensor
-- error such as SpO2 127 % or 50 °C). NULL values (a probe that sent nothing) are not errors.
SELECT
    *,
    COALESCE(spo2_pct BETWEEN ${spo2_min} AND ${spo2_max}, true)
        AND COALESCE(heart_rate_bpm BETWEEN ${hr_min} AND ${hr_max}, true)
        AND COALESCE(temperature_c BETWEEN ${temp_min} AND ${temp_max}, true)
        AND COALESCE(respiratory_rate BETWEEN ${resp_min} AND ${resp_max}, true) AS in_range
FROM vitals_in_period
