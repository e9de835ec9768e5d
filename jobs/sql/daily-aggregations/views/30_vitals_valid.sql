-- The readings every statistic is computed from: all values within their physical ranges.
SELECT * FROM vitals_checked WHERE in_range
