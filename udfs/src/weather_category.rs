//! `weather_category(weather_condition)`: the SPEC's weather category of a
//! free-text weather condition, decided once per distinct text of a batch.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, DictionaryArray, StringArray, StringArrayType, StringBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    ArrowDictionaryKeyType, ArrowNativeType, DataType, Field, FieldRef, Int8Type, Int16Type,
    Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::common::utils::take_function_args;
use datafusion::common::{HashMap, ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion_macros::user_doc;

/// The categories, in the order their rules are tried, with the words that
/// select each (matched anywhere in the lowercased text).
const RULES: [(WeatherCategory, &[&str]); 6] = [
    (
        WeatherCategory::Storm,
        &["thunder", "storm", "hail", "tornado", "squall"],
    ),
    (
        WeatherCategory::Snow,
        &["snow", "sleet", "ice", "wintry", "freezing"],
    ),
    (WeatherCategory::Rain, &["rain", "drizzle", "shower"]),
    (
        WeatherCategory::Fog,
        &["fog", "mist", "haze", "smoke", "dust", "sand"],
    ),
    (WeatherCategory::Cloudy, &["cloud", "overcast"]),
    (WeatherCategory::Clear, &["fair", "clear"]),
];

/// The result of [`WeatherCategoryFunc`] (SPEC section 3, `weather_category`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WeatherCategory {
    /// thunder, storm, hail, tornado or squall.
    Storm,
    /// snow, sleet, ice, wintry or freezing.
    Snow,
    /// rain, drizzle or shower.
    Rain,
    /// fog, mist, haze, smoke, dust or sand.
    Fog,
    /// cloud or overcast.
    Cloudy,
    /// fair or clear.
    Clear,
    /// No condition: NULL or the empty string.
    Unknown,
    /// A condition that no rule matches.
    Other,
}

impl WeatherCategory {
    /// The category of one condition (`None` is a NULL condition): the first
    /// rule whose word the lowercased text contains.
    pub fn of(condition: Option<&str>) -> Self {
        let condition = match condition {
            None | Some("") => return Self::Unknown,
            Some(condition) => condition.to_lowercase(),
        };
        RULES
            .iter()
            .find(|(_, words)| words.iter().any(|word| condition.contains(word)))
            .map_or(Self::Other, |(category, _)| *category)
    }

    /// The SQL string: `'storm'`, `'snow'`, `'rain'`, `'fog'`, `'cloudy'`,
    /// `'clear'`, `'unknown'` or `'other'`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Storm => "storm",
            Self::Snow => "snow",
            Self::Rain => "rain",
            Self::Fog => "fog",
            Self::Cloudy => "cloudy",
            Self::Clear => "clear",
            Self::Unknown => "unknown",
            Self::Other => "other",
        }
    }
}

/// `weather_category(weather_condition UTF8) -> UTF8`, never NULL.
///
/// SPEC section 3: case-insensitive, the first rule that matches —
/// thunder|storm|hail|tornado|squall → `storm`; snow|sleet|ice|wintry|freezing
/// → `snow`; rain|drizzle|shower → `rain`; fog|mist|haze|smoke|dust|sand →
/// `fog`; cloud|overcast → `cloudy`; fair|clear → `clear`; NULL or empty →
/// `unknown`; anything else → `other`.
///
/// A lake holds a few dozen distinct conditions over millions of rows, so the
/// rules run once per distinct text of a batch (once per dictionary value for
/// dictionary-encoded input) and every row takes its distinct text's result:
/// the same answer as a `CASE` of six regular expressions over `lower(...)`,
/// at a fraction of its cost. Accepts `Utf8`, `LargeUtf8`, `Utf8View` and
/// dictionaries of those; the result is `Utf8`.
#[user_doc(
    doc_section(label = "String Functions"),
    description = "Returns the weather category of a free-text weather condition: the first case-insensitive rule that matches — thunder|storm|hail|tornado|squall → 'storm'; snow|sleet|ice|wintry|freezing → 'snow'; rain|drizzle|shower → 'rain'; fog|mist|haze|smoke|dust|sand → 'fog'; cloud|overcast → 'cloudy'; fair|clear → 'clear'; NULL or empty → 'unknown'; anything else → 'other'. Never NULL.",
    syntax_example = "weather_category(weather_condition)",
    sql_example = r#"```sql
> SELECT weather_category('Light Freezing Rain');
+-----------------------------------------------+
| weather_category(Utf8("Light Freezing Rain")) |
+-----------------------------------------------+
| snow                                          |
+-----------------------------------------------+
```"#,
    argument(
        name = "weather_condition",
        description = "The weather condition as reported (for example 'Partly Cloudy' or 'T-Storm'); NULL or empty gives 'unknown'."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct WeatherCategoryFunc {
    signature: Signature,
}

impl Default for WeatherCategoryFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl WeatherCategoryFunc {
    /// Creates the function. Its signature is user-defined: any string type
    /// (or a dictionary of one) is taken as is, an untyped NULL as `Utf8`.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for WeatherCategoryFunc {
    fn name(&self) -> &str {
        "weather_category"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    /// Never NULL: a NULL condition is `'unknown'`.
    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(self.name(), DataType::Utf8, false)))
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [arg_type] = take_function_args(self.name(), arg_types)?;
        match arg_type {
            DataType::Null => Ok(vec![DataType::Utf8]),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok(vec![arg_type.clone()]),
            DataType::Dictionary(_, value)
                if matches!(
                    value.as_ref(),
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                ) =>
            {
                Ok(vec![arg_type.clone()])
            }
            other => plan_err!(
                "{} expects a string (the weather condition), got {other}",
                self.name()
            ),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [condition] = take_function_args(self.name(), args.args)?;
        match condition {
            ColumnarValue::Scalar(scalar) => {
                let array = scalar.to_array_of_size(1)?;
                let category = categorize(&array)?.value(0).to_string();
                Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(category))))
            }
            ColumnarValue::Array(array) => Ok(ColumnarValue::Array(Arc::new(categorize(&array)?))),
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// The category of every row of `conditions`, as `Utf8` without NULLs.
fn categorize(conditions: &ArrayRef) -> Result<StringArray> {
    let categories = match conditions.data_type() {
        DataType::Utf8 => categorize_strings(conditions.as_string::<i32>()),
        DataType::LargeUtf8 => categorize_strings(conditions.as_string::<i64>()),
        DataType::Utf8View => categorize_strings(conditions.as_string_view()),
        DataType::Null => vec![WeatherCategory::Unknown; conditions.len()],
        DataType::Dictionary(key, _) => match key.as_ref() {
            DataType::Int8 => categorize_dictionary::<Int8Type>(conditions)?,
            DataType::Int16 => categorize_dictionary::<Int16Type>(conditions)?,
            DataType::Int32 => categorize_dictionary::<Int32Type>(conditions)?,
            DataType::Int64 => categorize_dictionary::<Int64Type>(conditions)?,
            DataType::UInt8 => categorize_dictionary::<UInt8Type>(conditions)?,
            DataType::UInt16 => categorize_dictionary::<UInt16Type>(conditions)?,
            DataType::UInt32 => categorize_dictionary::<UInt32Type>(conditions)?,
            DataType::UInt64 => categorize_dictionary::<UInt64Type>(conditions)?,
            other => return exec_err!("weather_category: unsupported dictionary key {other}"),
        },
        other => return exec_err!("weather_category: unsupported argument type {other}"),
    };
    let bytes = categories.iter().map(|c| c.as_str().len()).sum();
    let mut builder = StringBuilder::with_capacity(categories.len(), bytes);
    for category in categories {
        builder.append_value(category.as_str());
    }
    Ok(builder.finish())
}

/// One category per row; the rules run once per distinct text.
fn categorize_strings<'a, S: StringArrayType<'a>>(strings: S) -> Vec<WeatherCategory> {
    let mut seen: HashMap<&'a str, WeatherCategory> = HashMap::new();
    strings
        .iter()
        .map(|condition| match condition {
            None => WeatherCategory::Unknown,
            Some(text) => *seen
                .entry(text)
                .or_insert_with(|| WeatherCategory::of(Some(text))),
        })
        .collect()
}

/// One category per row of a dictionary: the rules run once per value.
fn categorize_dictionary<K: ArrowDictionaryKeyType>(
    conditions: &ArrayRef,
) -> Result<Vec<WeatherCategory>> {
    let dictionary: &DictionaryArray<K> = conditions.as_dictionary();
    let values = cast(dictionary.values(), &DataType::Utf8)?;
    let value_categories = categorize_strings(values.as_string::<i32>());
    Ok(dictionary
        .keys()
        .iter()
        .map(|key| {
            key.and_then(|key| value_categories.get(key.as_usize()).copied())
                .unwrap_or(WeatherCategory::Unknown)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{LargeStringArray, StringViewArray};
    use datafusion::common::config::ConfigOptions;

    use super::*;

    fn invoke(arg: ColumnarValue) -> ColumnarValue {
        let number_rows = match &arg {
            ColumnarValue::Array(a) => a.len(),
            ColumnarValue::Scalar(_) => 1,
        };
        WeatherCategoryFunc::new()
            .invoke_with_args(ScalarFunctionArgs {
                arg_fields: vec![Field::new("a", arg.data_type(), true).into()],
                args: vec![arg],
                number_rows,
                return_field: Field::new("f", DataType::Utf8, false).into(),
                config_options: Arc::new(ConfigOptions::default()),
            })
            .unwrap()
    }

    fn invoke_array(array: ArrayRef) -> Vec<String> {
        match invoke(ColumnarValue::Array(array)) {
            ColumnarValue::Array(a) => {
                assert_eq!(a.null_count(), 0);
                a.as_string::<i32>()
                    .iter()
                    .map(|v| v.unwrap().to_string())
                    .collect()
            }
            ColumnarValue::Scalar(s) => panic!("expected an array, got {s:?}"),
        }
    }

    /// Conditions seen in US-Accidents, with the category the SPEC's rules give.
    const GOLDEN: [(Option<&str>, &str); 20] = [
        (Some("Thunderstorm"), "storm"),
        (Some("T-Storm"), "storm"),
        (Some("Heavy T-Storm / Windy"), "storm"),
        (Some("Hail"), "storm"),
        (Some("Light Freezing Rain"), "snow"), // snow's rule comes before rain's
        (Some("Wintry Mix"), "snow"),
        (Some("Light Snow"), "snow"),
        (Some("Light Rain"), "rain"),
        (Some("Drizzle"), "rain"),
        (Some("Light Rain Shower"), "rain"),
        (Some("Fog"), "fog"),
        (Some("Haze"), "fog"),
        (Some("Blowing Dust / Windy"), "fog"),
        (Some("Partly Cloudy"), "cloudy"),
        (Some("OVERCAST"), "cloudy"),
        (Some("Fair"), "clear"),
        (Some("clear"), "clear"),
        (Some("Windy"), "other"),
        (Some(""), "unknown"),
        (None, "unknown"),
    ];

    #[test]
    fn golden_values_in_every_string_type() {
        let texts: Vec<Option<&str>> = GOLDEN.iter().map(|(text, _)| *text).collect();
        let expected: Vec<&str> = GOLDEN.iter().map(|(_, category)| *category).collect();
        let arrays: [ArrayRef; 4] = [
            Arc::new(StringArray::from(texts.clone())),
            Arc::new(LargeStringArray::from(texts.clone())),
            Arc::new(StringViewArray::from(texts.clone())),
            Arc::new(
                texts
                    .iter()
                    .copied()
                    .collect::<DictionaryArray<Int32Type>>(),
            ),
        ];
        for array in arrays {
            assert_eq!(invoke_array(array), expected);
        }
    }

    #[test]
    fn first_rule_wins() {
        // a word of every rule: the storm rule is tried first
        assert_eq!(
            WeatherCategory::of(Some("clear cloud fog rain snow storm")),
            WeatherCategory::Storm
        );
        assert_eq!(
            WeatherCategory::of(Some("Rain and Snow")),
            WeatherCategory::Snow
        );
        // "ice" inside another word still counts (the SPEC says "contains")
        assert_eq!(WeatherCategory::of(Some("Price")), WeatherCategory::Snow);
        // whitespace is not empty
        assert_eq!(WeatherCategory::of(Some(" ")), WeatherCategory::Other);
    }

    #[test]
    fn repeated_values_keep_their_row_order() {
        let texts: Vec<Option<&str>> = (0..10_000)
            .map(|i| match i % 4 {
                0 => Some("Fair"),
                1 => Some("Light Rain"),
                2 => None,
                _ => Some("Fog"),
            })
            .collect();
        let out = invoke_array(Arc::new(StringViewArray::from(texts)));
        assert_eq!(out.len(), 10_000);
        for (i, category) in out.iter().enumerate() {
            let expected = ["clear", "rain", "unknown", "fog"][i % 4];
            assert_eq!(category, expected, "row {i}");
        }
    }

    #[test]
    fn dictionary_with_null_keys_and_unused_values() {
        let keys = datafusion::arrow::array::Int8Array::from(vec![Some(1), None, Some(1)]);
        let values = StringArray::from(vec!["Snow", "Mist"]);
        let dictionary = DictionaryArray::<Int8Type>::try_new(keys, Arc::new(values)).unwrap();
        assert_eq!(
            invoke_array(Arc::new(dictionary)),
            ["fog", "unknown", "fog"]
        );
    }

    #[test]
    fn scalars() {
        for (scalar, expected) in [
            (ScalarValue::Utf8(Some("Heavy Snow".into())), "snow"),
            (ScalarValue::Utf8View(Some("Cloudy".into())), "cloudy"),
            (ScalarValue::LargeUtf8(None), "unknown"),
            (ScalarValue::Null, "unknown"),
        ] {
            let out = invoke(ColumnarValue::Scalar(scalar));
            assert!(
                matches!(&out, ColumnarValue::Scalar(ScalarValue::Utf8(Some(v))) if v == expected),
                "{out:?}"
            );
        }
    }

    #[test]
    fn empty_input() {
        assert!(invoke_array(Arc::new(StringArray::from(Vec::<&str>::new()))).is_empty());
    }

    #[test]
    fn rejects_numbers() {
        assert!(
            WeatherCategoryFunc::new()
                .coerce_types(&[DataType::Int64])
                .is_err()
        );
    }

    #[test]
    fn never_null() {
        let field = WeatherCategoryFunc::new()
            .return_field_from_args(ReturnFieldArgs {
                arg_fields: &[Field::new("a", DataType::Utf8, true).into()],
                scalar_arguments: &[None],
            })
            .unwrap();
        assert!(!field.is_nullable());
        assert!(WeatherCategoryFunc::new().documentation().is_some());
    }
}
