"""The accidents datamart (SPEC section 3) as SQL for the benchmark's peer engines, DuckDB and Spark.

One text of every query, written like medallion's jobs/sql/accidents-datamart (the same plan shapes:
one pass with GROUPING SETS for kpis_temporal, one aggregate row unpivoted for kpis_infrastructure,
the weather rules matched on the lowercased text), so the engines are compared on the same work.
medallion's UDFs are built-in expressions here: danger_index, seasonal_factor, haversine_miles, and
trend_direction as a window least-squares slope (regr_slope over the same rows) divided by the window
mean. Where the two SQL dialects differ, a `Dialect` renders the piece.
"""

from dataclasses import dataclass
from typing import Callable

# Parameters of jobs/sql/accidents-datamart/job.toml.
HOTSPOT_MIN_ACCIDENTS = 50
HOTSPOT_TOP = 50
TREND_THRESHOLD = "0.05"

FLAGS = ["amenity", "bump", "crossing", "give_way", "junction", "no_exit", "railway",
         "roundabout", "station", "stop", "traffic_calming", "traffic_signal", "turning_loop"]

# The five aggregate tables: the "aggregation phase" compared with medallion's.
AGGREGATES = ["kpis_security", "kpis_temporal", "hotspots", "kpis_weather", "kpis_infrastructure"]


@dataclass(frozen=True)
class Dialect:
    """How one engine spells what the others spell differently."""
    # `text` matches regular expression `pattern` (case-sensitive)
    matches: Callable[[str, str], str]
    # a DOUBLE literal from its decimal text
    double: Callable[[str], str]
    # the day of the week of a timestamp, 0 = Sunday
    day_of_week: Callable[[str], str]
    # the current timestamp
    now: str
    # SELECT list turning the one `totals` row into (flag, with_count, with_severity) rows
    unpivot_flags: Callable[[], str]


DUCKDB = Dialect(
    matches=lambda text, pattern: f"regexp_matches({text}, '{pattern}')",
    double=lambda literal: literal,
    day_of_week=lambda ts: f"dayofweek({ts})",
    now="now()",
    unpivot_flags=lambda: (
        f"unnest([{', '.join(repr(f) for f in FLAGS)}]) AS flag, "
        f"unnest([{', '.join(f + '_count' for f in FLAGS)}]) AS with_count, "
        f"unnest([{', '.join(f + '_severity' for f in FLAGS)}]) AS with_severity"),
)

SPARK = Dialect(
    matches=lambda text, pattern: f"{text} RLIKE '{pattern}'",
    double=lambda literal: f"{literal}D",
    day_of_week=lambda ts: f"(dayofweek({ts}) - 1)",
    now="current_timestamp()",
    unpivot_flags=lambda: (
        "stack(13, " + ", ".join(f"'{f}', {f}_count, {f}_severity" for f in FLAGS)
        + ") AS (flag, with_count, with_severity)"),
)


def haversine(d, lat1, lng1, lat2, lng2):
    """haversine_miles over four column expressions."""
    a = (f"pow(sin((radians({lat2}) - radians({lat1})) / 2), 2) + cos(radians({lat1})) * "
         f"cos(radians({lat2})) * pow(sin(radians({lng2} - {lng1}) / 2), 2)")
    return (f"2 * {d.double('3958.8')} * asin(sqrt(least({d.double('1.0')}, "
            f"greatest({d.double('0.0')}, {a}))))")


def danger(sev, cnt):
    """danger_index(severity_avg, accident_count)."""
    return (f"CASE WHEN {sev} BETWEEN 1 AND 4 AND {cnt} >= 0 "
            f"THEN {sev} * ln(1 + CAST({cnt} AS DOUBLE)) END")


def trend(d, n, mean, slope):
    """trend_direction of a window, from its row count, mean and least-squares slope. The ratio is
    rounded to 12 digits: a window exactly at the threshold in exact arithmetic is 'stable'."""
    thr = d.double(TREND_THRESHOLD)
    return (f"CASE WHEN {n} < 3 OR {mean} = 0 THEN 'stable' "
            f"WHEN round({slope} / {mean}, 12) > {thr} THEN 'up' "
            f"WHEN round({slope} / {mean}, 12) < -{thr} THEN 'down' ELSE 'stable' END")


def classified(d):
    """The accidents_classified view over `accidents`."""
    rules = [("thunder|storm|hail|tornado|squall", "storm"), ("snow|sleet|ice|wintry|freezing", "snow"),
             ("rain|drizzle|shower", "rain"), ("fog|mist|haze|smoke|dust|sand", "fog"),
             ("cloud|overcast", "cloudy"), ("fair|clear", "clear")]
    weather = "\n".join(f"        WHEN {d.matches('lower(weather_condition)', p)} THEN '{c}'"
                        for p, c in rules)
    flag_sum = " + ".join(f"CAST(coalesce({f}, false) AS INT)" for f in FLAGS)
    return f"""
SELECT id, severity, CAST(start_time AS TIMESTAMP) AS start_time, state, city, start_lat, start_lng,
    distance_mi, temperature_f, visibility_mi, {", ".join(FLAGS)},
    CASE
{weather}
        WHEN weather_condition IS NULL OR weather_condition = '' THEN 'unknown'
        ELSE 'other'
    END AS weather_category,
    CASE
        WHEN temperature_f IS NULL THEN 'unknown'
        WHEN temperature_f < 40 THEN 'cold'
        WHEN temperature_f > 85 THEN 'hot'
        ELSE 'mild'
    END AS temperature_category,
    {flag_sum} AS infrastructure_count
FROM accidents
WHERE id IS NOT NULL AND state IS NOT NULL AND start_time IS NOT NULL
  AND severity BETWEEN 1 AND 4
"""


def gold(d):
    """{table: SELECT} of the six Gold tables over accidents_classified and state_population."""
    flag_totals = ",\n".join(
        f"        COUNT(*) FILTER (WHERE {f}) AS {f}_count,\n"
        f"        coalesce(SUM(severity_value) FILTER (WHERE {f}), 0) AS {f}_severity"
        for f in FLAGS)
    return {
        "accidents_summary": """
SELECT id, state, city, severity,
    CAST(start_time AS DATE) AS accident_date,
    CAST(hour(start_time) AS INT) AS accident_hour,
    weather_category, temperature_category, infrastructure_count,
    CAST(least(100, greatest(0, 100 - 20 * (severity - 1)
        - CASE weather_category WHEN 'storm' THEN 15 WHEN 'snow' THEN 12 WHEN 'fog' THEN 10
                                WHEN 'rain' THEN 6 ELSE 0 END
        + 2 * infrastructure_count
        - CASE WHEN visibility_mi < 1 THEN 10 ELSE 0 END)) AS DOUBLE) AS safety_score,
    CAST(distance_mi AS DOUBLE) AS distance_miles
FROM accidents_classified
""",
        "kpis_security": f"""
WITH by_city AS (
    SELECT state, city, COUNT(*) AS accident_count,
           SUM(CAST(severity AS DOUBLE)) AS severity_sum,
           SUM(CASE WHEN severity = 1 THEN 1 ELSE 0 END) AS n1,
           SUM(CASE WHEN severity = 2 THEN 1 ELSE 0 END) AS n2,
           SUM(CASE WHEN severity = 3 THEN 1 ELSE 0 END) AS n3,
           SUM(CASE WHEN severity = 4 THEN 1 ELSE 0 END) AS n4
    FROM accidents_classified GROUP BY state, city
),
rows_ AS (
    SELECT state, city, accident_count, severity_sum, n1, n2, n3, n4,
           CAST(NULL AS DOUBLE) AS accident_rate_per_100k
    FROM by_city WHERE city IS NOT NULL
    UNION ALL
    SELECT s.state, CAST(NULL AS STRING), s.accident_count, s.severity_sum, s.n1, s.n2, s.n3, s.n4,
           CAST(s.accident_count AS DOUBLE) * {d.double('100000.0')} / p.population
    FROM (SELECT state, SUM(accident_count) AS accident_count, SUM(severity_sum) AS severity_sum,
                 SUM(n1) AS n1, SUM(n2) AS n2, SUM(n3) AS n3, SUM(n4) AS n4
          FROM by_city GROUP BY state) s
    LEFT JOIN state_population p ON p.state = s.state
),
scored AS (
    SELECT *, severity_sum / accident_count AS severity_avg,
           {danger("(severity_sum / accident_count)", "accident_count")} AS danger_index
    FROM rows_
)
SELECT state, city, CAST(accident_count AS BIGINT) AS accident_count, severity_avg,
    accident_rate_per_100k, danger_index,
    '{{"1":' || CAST(n1 AS STRING) || ',"2":' || CAST(n2 AS STRING)
        || ',"3":' || CAST(n3 AS STRING) || ',"4":' || CAST(n4 AS STRING) || '}}'
        AS severity_distribution,
    CAST(ROW_NUMBER() OVER (PARTITION BY city IS NULL
        ORDER BY danger_index DESC, accident_count DESC, state ASC, city ASC) AS INT) AS hotspot_rank,
    {d.now} AS last_updated
FROM scored
""",
        "kpis_temporal": f"""
WITH keyed AS (
    SELECT state, CAST(severity AS DOUBLE) AS severity_value,
           CAST(hour(start_time) AS INT) AS hour_of_day,
           CAST({d.day_of_week("start_time")} AS INT) AS day_of_week,
           CAST(year(start_time) AS INT) AS calendar_year,
           CAST(month(start_time) AS INT) AS month_of_year
    FROM accidents_classified
),
counted AS (
    SELECT hour_of_day, day_of_week, calendar_year, month_of_year, state,
           COUNT(*) AS accident_count, SUM(severity_value) AS severity_sum
    FROM keyed
    GROUP BY GROUPING SETS (
        (hour_of_day, state), (hour_of_day), (day_of_week, state), (day_of_week),
        (calendar_year, month_of_year, state), (calendar_year, month_of_year),
        (calendar_year, state), (calendar_year))
),
named AS (
    SELECT
        CASE WHEN hour_of_day IS NOT NULL THEN 'hourly' WHEN day_of_week IS NOT NULL THEN 'daily'
             WHEN month_of_year IS NOT NULL THEN 'monthly' ELSE 'yearly' END AS period_type,
        CASE WHEN hour_of_day IS NOT NULL THEN lpad(CAST(hour_of_day AS STRING), 2, '0')
             WHEN day_of_week IS NOT NULL THEN CASE day_of_week
                 WHEN 0 THEN 'Sun' WHEN 1 THEN 'Mon' WHEN 2 THEN 'Tue' WHEN 3 THEN 'Wed'
                 WHEN 4 THEN 'Thu' WHEN 5 THEN 'Fri' ELSE 'Sat' END
             WHEN month_of_year IS NOT NULL THEN lpad(CAST(calendar_year AS STRING), 4, '0')
                 || '-' || lpad(CAST(month_of_year AS STRING), 2, '0')
             ELSE lpad(CAST(calendar_year AS STRING), 4, '0') END AS period_value,
        state, accident_count, severity_sum
    FROM counted
),
numbered AS (
    SELECT *, CAST(accident_count AS DOUBLE) AS c,
           CAST(ROW_NUMBER() OVER (PARTITION BY period_type, state ORDER BY period_value) AS DOUBLE) AS pos
    FROM named
),
windowed AS (
    SELECT period_type, period_value, state, accident_count,
        severity_sum / accident_count AS severity_avg,
        AVG(c) OVER (PARTITION BY period_type, state) AS base_count,
        AVG(c) OVER (PARTITION BY period_type, state, substr(period_value, 6, 2)) AS calendar_month_avg,
        COUNT(*) OVER w6 AS n6, AVG(c) OVER w6 AS mean6, regr_slope(c, pos) OVER w6 AS slope6,
        COUNT(*) OVER w3 AS n3, AVG(c) OVER w3 AS mean3, regr_slope(c, pos) OVER w3 AS slope3
    FROM numbered
    WINDOW w6 AS (PARTITION BY period_type, state ORDER BY period_value
                  ROWS BETWEEN 5 PRECEDING AND CURRENT ROW),
           w3 AS (PARTITION BY period_type, state ORDER BY period_value
                  ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
)
SELECT period_type, period_value, state, CAST(accident_count AS BIGINT) AS accident_count,
    severity_avg,
    CASE period_type
        WHEN 'monthly' THEN {trend(d, "n6", "mean6", "slope6")}
        WHEN 'yearly' THEN {trend(d, "n3", "mean3", "slope3")}
    END AS trend_direction,
    CASE WHEN period_type = 'monthly'
         THEN CASE WHEN base_count <> 0 THEN calendar_month_avg / base_count END
         ELSE CASE WHEN base_count <> 0 THEN CAST(accident_count AS DOUBLE) / base_count END
    END AS seasonal_factor,
    {d.now} AS last_updated
FROM windowed
""",
        "hotspots": f"""
WITH located AS (
    SELECT state, city, severity, start_lat, start_lng,
           (CAST(floor(start_lat * 10) AS DOUBLE) + {d.double('0.5')}) / 10 AS latitude,
           (CAST(floor(start_lng * 10) AS DOUBLE) + {d.double('0.5')}) / 10 AS longitude
    FROM accidents_classified
    WHERE city IS NOT NULL AND start_lat IS NOT NULL AND start_lng IS NOT NULL
),
cells AS (
    SELECT state, city, latitude, longitude, COUNT(*) AS accident_count,
           AVG(CAST(severity AS DOUBLE)) AS severity_avg,
           MAX({haversine(d, "latitude", "longitude", "start_lat", "start_lng")}) AS radius_miles
    FROM located GROUP BY state, city, latitude, longitude
)
SELECT state, city, latitude, longitude, CAST(accident_count AS BIGINT) AS accident_count,
    severity_avg, {danger("severity_avg", "accident_count")} AS danger_score, radius_miles,
    {d.now} AS last_updated
FROM cells
WHERE accident_count >= {HOTSPOT_MIN_ACCIDENTS}
ORDER BY danger_score DESC, accident_count DESC, state, city, latitude, longitude
LIMIT {HOTSPOT_TOP}
""",
        "kpis_weather": f"""
SELECT weather_category, temperature_category, CAST(COUNT(*) AS BIGINT) AS accident_count,
    AVG(CAST(severity AS DOUBLE)) AS severity_avg,
    {d.double('100.0')} * CAST(COUNT(*) AS DOUBLE) / CAST(SUM(COUNT(*)) OVER () AS DOUBLE) AS share_pct
FROM accidents_classified GROUP BY weather_category, temperature_category
""",
        "kpis_infrastructure": f"""
WITH totals AS (
    SELECT COUNT(*) AS accidents, coalesce(SUM(severity_value), 0) AS severity_total,
{flag_totals}
    FROM (SELECT *, CAST(severity AS DOUBLE) AS severity_value FROM accidents_classified) a
),
per_flag AS (
    SELECT {d.unpivot_flags()}, accidents, severity_total
    FROM totals WHERE accidents > 0
),
averaged AS (
    SELECT flag, with_count, accidents - with_count AS without_count,
        CASE WHEN with_count > 0 THEN with_severity / with_count END AS severity_avg_with,
        CASE WHEN accidents > with_count
             THEN (severity_total - with_severity) / (accidents - with_count) END AS severity_avg_without
    FROM per_flag
)
SELECT flag, CAST(with_count AS BIGINT) AS accidents_with,
    CAST(without_count AS BIGINT) AS accidents_without, severity_avg_with, severity_avg_without,
    100 * (severity_avg_without - severity_avg_with) / severity_avg_without AS severity_reduction_pct
FROM averaged
""",
    }
