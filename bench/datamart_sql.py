"""The accidents datamart (SPEC sections 3 and 3b) as SQL for the benchmark's peer engines, DuckDB and
Spark.

One text of every query, written like medallion's jobs/sql/accidents-datamart (the same plan shapes:
one pass with GROUPING SETS for kpis_temporal, one aggregate row unpivoted for kpis_infrastructure,
the weather rules matched on the lowercased text), so the engines are compared on the same work.
medallion's UDFs are built-in expressions here: danger_index, seasonal_factor, haversine_miles, and
trend_direction as a window least-squares slope (regr_slope over the same rows) divided by the window
mean. Where the two SQL dialects differ, a `Dialect` renders the piece.

The SPEC 3b tables (kpis_anomalies, kpis_correlations, insights) are written here from the SPEC text
on their own, each rule as its own branch over accidents_classified (medallion folds them into one
pass per table); only the correlations are shared, by kpis_correlations and insights.
"""

from dataclasses import dataclass
from typing import Callable

# Parameters of jobs/sql/accidents-datamart/job.toml.
HOTSPOT_MIN_ACCIDENTS = 50
HOTSPOT_TOP = 50
TREND_THRESHOLD = "0.05"

FLAGS = ["amenity", "bump", "crossing", "give_way", "junction", "no_exit", "railway",
         "roundabout", "station", "stop", "traffic_calming", "traffic_signal", "turning_loop"]

# Parameters of SPEC 3b (job.toml defaults).
ANOMALY_Z = "3"
GEO_ANOMALY_Z = "2"
MIN_ROWS = 30

# The variables kpis_correlations correlates with severity.
CORR_VARIABLES = ["temperature_f", "visibility_mi", "humidity_pct", "wind_speed_mph", "precipitation_in",
                  "pressure_in", "distance_mi", "infrastructure_count"]

# The five aggregate tables of SPEC 3: the "aggregation phase" compared with medallion's.
AGGREGATES = ["kpis_security", "kpis_temporal", "hotspots", "kpis_weather", "kpis_infrastructure"]

# The three tables of SPEC 3b: the "analytics phase".
ANALYTICS = ["kpis_anomalies", "kpis_correlations", "insights"]


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
    # SELECT list turning one row into one row per (label, exprs...) item: unpivot(items, names)
    unpivot: Callable[[list, list], str]
    # the sign of a DOUBLE: -1, 0 or 1
    sign: Callable[[str], str]


def _unnest(items, names):
    """DuckDB: parallel unnest of one list per output column."""
    columns = [[repr(label) for label, _ in items]]
    for k in range(len(names) - 1):
        columns.append([exprs[k] for _, exprs in items])
    return ", ".join(f"unnest([{', '.join(col)}]) AS {name}" for col, name in zip(columns, names))


def _stack(items, names):
    """Spark: stack(n, ...) AS (names)."""
    values = ", ".join(", ".join([repr(label)] + list(exprs)) for label, exprs in items)
    return f"stack({len(items)}, {values}) AS ({', '.join(names)})"


DUCKDB = Dialect(
    matches=lambda text, pattern: f"regexp_matches({text}, '{pattern}')",
    double=lambda literal: literal,
    day_of_week=lambda ts: f"dayofweek({ts})",
    now="now()",
    unpivot_flags=lambda: (
        f"unnest([{', '.join(repr(f) for f in FLAGS)}]) AS flag, "
        f"unnest([{', '.join(f + '_count' for f in FLAGS)}]) AS with_count, "
        f"unnest([{', '.join(f + '_severity' for f in FLAGS)}]) AS with_severity"),
    unpivot=_unnest,
    sign=lambda x: f"sign({x})",
)

SPARK = Dialect(
    matches=lambda text, pattern: f"{text} RLIKE '{pattern}'",
    double=lambda literal: f"{literal}D",
    day_of_week=lambda ts: f"(dayofweek({ts}) - 1)",
    now="current_timestamp()",
    unpivot_flags=lambda: (
        "stack(13, " + ", ".join(f"'{f}', {f}_count, {f}_severity" for f in FLAGS)
        + ") AS (flag, with_count, with_severity)"),
    unpivot=_stack,
    sign=lambda x: f"CAST(signum({x}) AS DOUBLE)",
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
    distance_mi, temperature_f, visibility_mi, humidity_pct, wind_speed_mph, precipitation_in,
    pressure_in, {", ".join(FLAGS)},
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
        **analytics(d),
    }


def correlation_ctes(d):
    """CTE definitions ending with `correlations`: SPEC 3b's kpis_correlations rows (without
    last_updated), per state and for all states (state NULL)."""
    values = ",\n".join(f"        CAST({v} AS DOUBLE) AS {v}" for v in CORR_VARIABLES)
    stats = ",\n".join(
        f"        count({v}) AS {v}_n, corr({v}, y) AS {v}_r, var_samp({v}) AS {v}_vx,\n"
        f"        var_samp(CASE WHEN {v} IS NOT NULL THEN y END) AS {v}_vy"
        for v in CORR_VARIABLES)
    items = [(v, [f"{v}_n", f"{v}_r", f"{v}_vx", f"{v}_vy"]) for v in CORR_VARIABLES]
    return f"""
corr_values AS (
    SELECT state, CAST(severity AS DOUBLE) AS y,
{values}
    FROM accidents_classified
),
corr_stats AS (
    SELECT state,
{stats}
    FROM corr_values
    GROUP BY GROUPING SETS ((state), ())
),
corr_items AS (
    SELECT state, {d.unpivot(items, ["variable", "n", "r", "vx", "vy"])}
    FROM corr_stats
),
corr_r AS (
    -- r only from min_rows rows and two non-zero variances; a rounding step from ±1 is ±1
    SELECT state, variable, n,
        CASE WHEN n >= {MIN_ROWS} AND vx > 0 AND vy > 0 THEN
            CASE WHEN abs(r) >= 1 - {d.double('1e-12')} THEN {d.sign("r")} ELSE r END
        END AS pearson_r
    FROM corr_items
),
corr_t AS (
    SELECT state, variable, n, pearson_r,
        CASE WHEN pearson_r IS NOT NULL AND abs(pearson_r) < 1
             THEN pearson_r * sqrt(CAST(n - 2 AS DOUBLE) / (1 - pearson_r * pearson_r)) END AS t_stat
    FROM corr_r
),
correlations AS (
    SELECT state, variable, CAST(n AS BIGINT) AS n, pearson_r, t_stat,
        CASE WHEN t_stat IS NOT NULL AND abs(t_stat) >= {d.double('1.96')} THEN true ELSE false END
            AS significant,
        CASE WHEN abs(pearson_r) >= {d.double('0.5')} THEN 'strong'
             WHEN abs(pearson_r) >= {d.double('0.3')} THEN 'moderate'
             WHEN abs(pearson_r) >= {d.double('0.1')} THEN 'weak'
             ELSE 'none' END AS strength
    FROM corr_t
)"""


def analytics(d):
    """{table: SELECT} of the three SPEC 3b tables over accidents_classified and state_population."""
    hundred = d.double("100.0")
    flag_totals = ",\n".join(
        f"        COUNT(*) FILTER (WHERE {f}) AS {f}_count,\n"
        f"        coalesce(SUM(y) FILTER (WHERE {f}), 0) AS {f}_severity"
        for f in FLAGS)
    period = ("lpad(CAST(year(start_time) AS STRING), 4, '0') || '-' || "
              "lpad(CAST(month(start_time) AS STRING), 2, '0')")
    return {
        "kpis_correlations": f"""
WITH {correlation_ctes(d)}
SELECT *, {d.now} AS last_updated FROM correlations
""",
        "kpis_anomalies": f"""
WITH months AS (
    SELECT state, period, COUNT(*) AS c
    FROM (SELECT state, {period} AS period FROM accidents_classified) k
    GROUP BY GROUPING SETS ((state, period), (period))
),
temporal AS (
    SELECT 'temporal' AS anomaly_type, state, period AS subject, 'accident_count' AS metric,
        CAST(c AS DOUBLE) AS value, mean_c AS baseline, (c - mean_c) / sd_c AS z_score
    FROM (SELECT *, AVG(CAST(c AS DOUBLE)) OVER (PARTITION BY state) AS mean_c,
                 STDDEV_SAMP(CAST(c AS DOUBLE)) OVER (PARTITION BY state) AS sd_c,
                 COUNT(*) OVER (PARTITION BY state) AS scope_months
          FROM months) m
    WHERE scope_months >= 12 AND sd_c > 0
),
rates AS (
    SELECT s.state, CAST(s.c AS DOUBLE) * {d.double('100000.0')} / p.population AS rate
    FROM (SELECT state, COUNT(*) AS c FROM accidents_classified GROUP BY state) s
    JOIN state_population p ON p.state = s.state
),
geographic AS (
    SELECT 'geographic' AS anomaly_type, state, state AS subject,
        'accident_rate_per_100k' AS metric, rate AS value, mean_r AS baseline,
        (rate - mean_r) / sd_r AS z_score
    FROM (SELECT *, AVG(rate) OVER () AS mean_r, STDDEV_SAMP(rate) OVER () AS sd_r,
                 COUNT(*) OVER () AS k
          FROM rates WHERE rate IS NOT NULL) r
    WHERE k >= 5 AND sd_r > 0
),
overall AS (
    SELECT AVG(CAST(severity AS DOUBLE)) AS mu, STDDEV_SAMP(CAST(severity AS DOUBLE)) AS sigma
    FROM accidents_classified
),
categories AS (
    SELECT weather_category, COUNT(*) AS n, AVG(CAST(severity AS DOUBLE)) AS severity_avg
    FROM accidents_classified
    WHERE weather_category <> 'unknown'
    GROUP BY weather_category
),
weather AS (
    SELECT 'weather' AS anomaly_type, CAST(NULL AS STRING) AS state, weather_category AS subject,
        'severity_avg' AS metric, severity_avg AS value, mu AS baseline,
        (severity_avg - mu) / (sigma / sqrt(CAST(n AS DOUBLE))) AS z_score
    FROM categories CROSS JOIN overall
    WHERE n >= {MIN_ROWS} AND sigma > 0
),
found AS (
    SELECT * FROM temporal WHERE abs(z_score) >= {ANOMALY_Z}
    UNION ALL
    SELECT * FROM geographic WHERE z_score >= {GEO_ANOMALY_Z}
    UNION ALL
    SELECT * FROM weather WHERE abs(z_score) >= {ANOMALY_Z}
)
SELECT anomaly_type, state, subject, metric, value, baseline, z_score,
    CASE WHEN z_score > 0 THEN 'high' ELSE 'low' END AS direction,
    {d.now} AS last_updated
FROM found
""",
        "insights": f"""
WITH {correlation_ctes(d)},
states AS (
    SELECT state, COUNT(*) AS c, SUM(CAST(severity AS DOUBLE)) AS severity_sum
    FROM accidents_classified GROUP BY state
),
dangers AS (
    SELECT state, c, {danger("(severity_sum / c)", "c")} AS danger FROM states
),
state_ranks AS (
    SELECT state, danger,
        ROW_NUMBER() OVER (ORDER BY danger DESC, c DESC, state ASC) AS hotspot_rank,
        {hundred} * PERCENT_RANK() OVER (ORDER BY danger ASC) AS score
    FROM dangers
),
dangerous AS (
    SELECT 'dangerous_state' AS insight_type, state, state AS subject, danger AS value,
        CAST(hotspot_rank AS INT) AS rank,
        'Prioritise enforcement and prevention in ' || state AS recommendation
    FROM state_ranks WHERE hotspot_rank <= 10
),
scores AS (
    SELECT 'safety_improvement_score' AS insight_type, state, state AS subject, score AS value,
        CAST(ROW_NUMBER() OVER (ORDER BY score DESC, state ASC) AS INT) AS rank,
        CASE WHEN score >= 75 THEN 'High improvement potential'
             WHEN score >= 25 THEN 'Moderate improvement potential'
             ELSE 'Low improvement potential' END AS recommendation
    FROM state_ranks
),
hours AS (
    SELECT state, h, COUNT(*) AS c
    FROM (SELECT state, CAST(hour(start_time) AS INT) AS h FROM accidents_classified) k
    GROUP BY GROUPING SETS ((state, h), (h))
),
peaks AS (
    SELECT state, h, c, SUM(c) OVER (PARTITION BY state) AS scope_total,
        ROW_NUMBER() OVER (PARTITION BY state ORDER BY c DESC, h ASC) AS rn
    FROM hours
),
peak_hour AS (
    SELECT 'peak_hour' AS insight_type, state, lpad(CAST(h AS STRING), 2, '0') AS subject,
        CAST(c AS DOUBLE) * 100 / scope_total AS value, 1 AS rank,
        'Reinforce patrols around ' || lpad(CAST(h AS STRING), 2, '0') || ':00'
            || CASE WHEN state IS NULL THEN '' ELSE ' in ' || state END AS recommendation
    FROM peaks WHERE rn = 1
),
flag_totals AS (
    SELECT state, COUNT(*) AS n, SUM(y) AS severity_total,
{flag_totals}
    FROM (SELECT *, CAST(severity AS DOUBLE) AS y FROM accidents_classified) a
    GROUP BY GROUPING SETS ((state), ())
),
per_flag AS (
    SELECT state, n, severity_total, {d.unpivot_flags()} FROM flag_totals
),
reductions AS (
    SELECT state, flag,
        {hundred} * ((severity_total - with_severity) / (n - with_count) - with_severity / with_count)
            / ((severity_total - with_severity) / (n - with_count)) AS pct
    FROM per_flag
    WHERE with_count >= {MIN_ROWS} AND n - with_count >= {MIN_ROWS}
),
best AS (
    SELECT state, flag, pct, ROW_NUMBER() OVER (PARTITION BY state ORDER BY pct DESC, flag ASC) AS rn
    FROM reductions
),
best_infrastructure AS (
    SELECT 'best_infrastructure' AS insight_type, state, flag AS subject, pct AS value, 1 AS rank,
        'Extend ' || flag || ' equipment'
            || CASE WHEN state IS NULL THEN '' ELSE ' in ' || state END AS recommendation
    FROM best WHERE rn = 1 AND pct > 0
),
significant AS (
    SELECT 'significant_correlation' AS insight_type, state, variable AS subject,
        pearson_r AS value,
        CAST(ROW_NUMBER() OVER (ORDER BY abs(pearson_r) DESC, variable ASC) AS INT) AS rank,
        CASE WHEN pearson_r > 0 THEN 'Severity rises with ' || variable
             ELSE 'Severity falls as ' || variable || ' rises' END AS recommendation
    FROM correlations
    WHERE state IS NULL AND significant AND strength IN ('moderate', 'strong')
),
all_insights AS (
    SELECT * FROM dangerous
    UNION ALL SELECT * FROM scores
    UNION ALL SELECT * FROM peak_hour
    UNION ALL SELECT * FROM best_infrastructure
    UNION ALL SELECT * FROM significant
)
SELECT insight_type, state, subject, value, CAST(rank AS INT) AS rank, recommendation,
    {d.now} AS last_updated
FROM all_insights
""",
    }
