-- The weeks of the longest trend window, by offset from D's ISO week (0 = D's week, -25 = 25
-- weeks before it).
SELECT * FROM (VALUES
    (-25), (-24), (-23), (-22), (-21), (-20), (-19), (-18), (-17), (-16), (-15), (-14), (-13),
    (-12), (-11), (-10), (-9), (-8), (-7), (-6), (-5), (-4), (-3), (-2), (-1), (0)
) AS offsets(week_offset)
