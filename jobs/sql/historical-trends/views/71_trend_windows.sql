-- The trend windows of SPEC 5b: '3m' = the 13 ISO weeks, '6m' = the 26 ISO weeks ending with D's
-- week.
SELECT * FROM (VALUES ('3m', 13), ('6m', 26)) AS windows(window_name, weeks)
