//! The Silver `accidents` schema (SPEC section 2): the public US-Accidents columns, snake_cased.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// The 13 road-infrastructure flags of the dataset, in the dataset's column order.
pub const INFRASTRUCTURE_FLAGS: [&str; 13] = [
    "amenity",
    "bump",
    "crossing",
    "give_way",
    "junction",
    "no_exit",
    "railway",
    "roundabout",
    "station",
    "stop",
    "traffic_calming",
    "traffic_signal",
    "turning_loop",
];

/// The four twilight columns ('Day' / 'Night').
pub const TWILIGHT_COLUMNS: [&str; 4] = [
    "sunrise_sunset",
    "civil_twilight",
    "nautical_twilight",
    "astronomical_twilight",
];

/// Columns a Silver row cannot be accepted without (SPEC section 2).
pub const REQUIRED_COLUMNS: [&str; 4] = ["id", "severity", "start_time", "state"];

/// The timestamp type used for `start_time`, `end_time` and `weather_timestamp` in Silver files.
///
/// Microseconds, without a time zone: the dataset's local wall-clock times, readable by Spark too.
pub fn silver_timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

/// The Arrow schema of Silver `accidents`, in the dataset's column order.
pub fn accidents_schema() -> SchemaRef {
    let utf8 = |name: &str| Field::new(name, DataType::Utf8, true);
    let f64 = |name: &str| Field::new(name, DataType::Float64, true);
    let ts = |name: &str| Field::new(name, silver_timestamp(), true);
    let mut fields = vec![
        Field::new("id", DataType::Utf8, false),
        utf8("source"),
        Field::new("severity", DataType::Int32, true),
        ts("start_time"),
        ts("end_time"),
        f64("start_lat"),
        f64("start_lng"),
        f64("end_lat"),
        f64("end_lng"),
        f64("distance_mi"),
        utf8("description"),
        utf8("street"),
        utf8("city"),
        utf8("county"),
        utf8("state"),
        utf8("zipcode"),
        utf8("country"),
        utf8("timezone"),
        utf8("airport_code"),
        ts("weather_timestamp"),
        f64("temperature_f"),
        f64("wind_chill_f"),
        f64("humidity_pct"),
        f64("pressure_in"),
        f64("visibility_mi"),
        utf8("wind_direction"),
        f64("wind_speed_mph"),
        f64("precipitation_in"),
        utf8("weather_condition"),
    ];
    fields.extend(
        INFRASTRUCTURE_FLAGS
            .iter()
            .map(|name| Field::new(*name, DataType::Boolean, true)),
    );
    fields.extend(TWILIGHT_COLUMNS.iter().map(|name| utf8(name)));
    Arc::new(Schema::new(fields))
}

/// Bronze CSV header of each Silver column, as in the public Kaggle file (`ID`, `Distance(mi)`, ...).
pub fn bronze_header(column: &str) -> String {
    match column {
        "id" => "ID".to_string(),
        "start_lat" => "Start_Lat".to_string(),
        "start_lng" => "Start_Lng".to_string(),
        "end_lat" => "End_Lat".to_string(),
        "end_lng" => "End_Lng".to_string(),
        "distance_mi" => "Distance(mi)".to_string(),
        "temperature_f" => "Temperature(F)".to_string(),
        "wind_chill_f" => "Wind_Chill(F)".to_string(),
        "humidity_pct" => "Humidity(%)".to_string(),
        "pressure_in" => "Pressure(in)".to_string(),
        "visibility_mi" => "Visibility(mi)".to_string(),
        "wind_speed_mph" => "Wind_Speed(mph)".to_string(),
        "precipitation_in" => "Precipitation(in)".to_string(),
        "sunrise_sunset" => "Sunrise_Sunset".to_string(),
        "civil_twilight" => "Civil_Twilight".to_string(),
        "nautical_twilight" => "Nautical_Twilight".to_string(),
        "astronomical_twilight" => "Astronomical_Twilight".to_string(),
        other => other
            .split('_')
            .map(|word| {
                let mut chars = word.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join("_"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bronze_headers_match_the_kaggle_file() {
        assert_eq!(bronze_header("id"), "ID");
        assert_eq!(bronze_header("distance_mi"), "Distance(mi)");
        assert_eq!(bronze_header("start_time"), "Start_Time");
        assert_eq!(bronze_header("weather_condition"), "Weather_Condition");
        assert_eq!(bronze_header("give_way"), "Give_Way");
        assert_eq!(bronze_header("no_exit"), "No_Exit");
        assert_eq!(bronze_header("airport_code"), "Airport_Code");
        assert_eq!(bronze_header("zipcode"), "Zipcode");
    }

    #[test]
    fn schema_has_every_spec_column() {
        let schema = accidents_schema();
        assert_eq!(schema.fields().len(), 46);
        for name in REQUIRED_COLUMNS {
            assert!(schema.field_with_name(name).is_ok(), "{name}");
        }
    }
}
