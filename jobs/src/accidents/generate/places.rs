//! Where synthetic accidents happen: the 48 contiguous states and DC weighted like the public
//! US-Accidents data, and a few real cities per state with approximate coordinates.

use rand::Rng;
use rand::distributions::{Distribution, WeightedIndex};

/// A city accidents are placed around.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct City {
    /// Two-letter state code.
    pub state: &'static str,
    /// City name as the dataset spells it.
    pub name: &'static str,
    /// County name, without "County".
    pub county: &'static str,
    /// Approximate latitude of the city centre.
    pub lat: f64,
    /// Approximate longitude of the city centre.
    pub lng: f64,
    /// First three digits of the city's ZIP codes.
    pub zip3: &'static str,
    /// ICAO code of the nearest weather station (airport).
    pub airport: &'static str,
    /// Time zone as the dataset spells it (`US/Eastern`, ...).
    pub timezone: &'static str,
    /// Relative weight of the city within its state.
    pub weight: f64,
}

/// Share of the dataset's accidents per state, in percent (approximately the public data's).
pub const STATE_SHARES: [(&str, f64); 49] = [
    ("CA", 22.5),
    ("FL", 11.4),
    ("TX", 7.5),
    ("SC", 4.95),
    ("NY", 4.5),
    ("NC", 4.4),
    ("VA", 3.9),
    ("PA", 3.85),
    ("MN", 2.5),
    ("OR", 2.3),
    ("AZ", 2.2),
    ("GA", 2.2),
    ("IL", 2.2),
    ("TN", 2.15),
    ("MI", 2.1),
    ("LA", 1.95),
    ("NJ", 1.8),
    ("MD", 1.8),
    ("OH", 1.5),
    ("WA", 1.4),
    ("AL", 1.3),
    ("UT", 1.25),
    ("CO", 1.2),
    ("OK", 1.1),
    ("MO", 1.0),
    ("CT", 0.92),
    ("IN", 0.87),
    ("MA", 0.8),
    ("WI", 0.45),
    ("KY", 0.42),
    ("NE", 0.37),
    ("MT", 0.37),
    ("IA", 0.34),
    ("AR", 0.3),
    ("NV", 0.28),
    ("KS", 0.27),
    ("DC", 0.24),
    ("RI", 0.22),
    ("MS", 0.2),
    ("DE", 0.18),
    ("WV", 0.18),
    ("ID", 0.15),
    ("NM", 0.13),
    ("NH", 0.13),
    ("WY", 0.05),
    ("ND", 0.045),
    ("ME", 0.035),
    ("VT", 0.012),
    ("SD", 0.004),
];

const E: &str = "US/Eastern";
const C: &str = "US/Central";
const M: &str = "US/Mountain";
const P: &str = "US/Pacific";

#[allow(clippy::too_many_arguments)]
const fn city(
    state: &'static str,
    name: &'static str,
    county: &'static str,
    lat: f64,
    lng: f64,
    zip3: &'static str,
    airport: &'static str,
    timezone: &'static str,
    weight: f64,
) -> City {
    City {
        state,
        name,
        county,
        lat,
        lng,
        zip3,
        airport,
        timezone,
        weight,
    }
}

/// The cities of every state in [`STATE_SHARES`].
#[rustfmt::skip]
pub const CITIES: &[City] = &[
    city("CA", "Los Angeles", "Los Angeles", 34.052, -118.244, "900", "KCQT", P, 30.0),
    city("CA", "San Diego", "San Diego", 32.716, -117.161, "921", "KSAN", P, 10.0),
    city("CA", "Sacramento", "Sacramento", 38.582, -121.494, "958", "KSAC", P, 9.0),
    city("CA", "San Jose", "Santa Clara", 37.339, -121.895, "951", "KSJC", P, 7.0),
    city("CA", "San Francisco", "San Francisco", 37.775, -122.419, "941", "KSFO", P, 6.0),
    city("CA", "Oakland", "Alameda", 37.804, -122.271, "946", "KOAK", P, 6.0),
    city("CA", "Riverside", "Riverside", 33.953, -117.396, "925", "KRAL", P, 7.0),
    city("CA", "San Bernardino", "San Bernardino", 34.108, -117.290, "924", "KSBD", P, 5.0),
    city("CA", "Fresno", "Fresno", 36.738, -119.787, "937", "KFAT", P, 4.0),
    city("CA", "Bakersfield", "Kern", 35.373, -119.019, "933", "KBFL", P, 3.0),
    city("FL", "Miami", "Miami-Dade", 25.762, -80.192, "331", "KMIA", E, 20.0),
    city("FL", "Orlando", "Orange", 28.538, -81.379, "328", "KMCO", E, 15.0),
    city("FL", "Tampa", "Hillsborough", 27.951, -82.457, "336", "KTPA", E, 10.0),
    city("FL", "Jacksonville", "Duval", 30.332, -81.656, "322", "KJAX", E, 10.0),
    city("FL", "Fort Lauderdale", "Broward", 26.122, -80.137, "333", "KFLL", E, 7.0),
    city("FL", "Tallahassee", "Leon", 30.438, -84.281, "323", "KTLH", E, 3.0),
    city("TX", "Houston", "Harris", 29.760, -95.370, "770", "KHOU", C, 30.0),
    city("TX", "Dallas", "Dallas", 32.777, -96.797, "752", "KDAL", C, 25.0),
    city("TX", "Austin", "Travis", 30.267, -97.743, "787", "KAUS", C, 20.0),
    city("TX", "San Antonio", "Bexar", 29.424, -98.494, "782", "KSAT", C, 10.0),
    city("TX", "Fort Worth", "Tarrant", 32.755, -97.331, "761", "KFTW", C, 5.0),
    city("SC", "Columbia", "Richland", 34.000, -81.035, "292", "KCAE", E, 12.0),
    city("SC", "Charleston", "Charleston", 32.777, -79.931, "294", "KCHS", E, 12.0),
    city("SC", "Greenville", "Greenville", 34.852, -82.394, "296", "KGSP", E, 10.0),
    city("SC", "Myrtle Beach", "Horry", 33.689, -78.887, "295", "KMYR", E, 3.0),
    city("NY", "New York", "New York", 40.713, -74.006, "100", "KLGA", E, 15.0),
    city("NY", "Brooklyn", "Kings", 40.678, -73.944, "112", "KJFK", E, 10.0),
    city("NY", "Bronx", "Bronx", 40.845, -73.865, "104", "KLGA", E, 5.0),
    city("NY", "Rochester", "Monroe", 43.157, -77.615, "146", "KROC", E, 5.0),
    city("NY", "Buffalo", "Erie", 42.886, -78.878, "142", "KBUF", E, 4.0),
    city("NY", "Albany", "Albany", 42.653, -73.756, "122", "KALB", E, 3.0),
    city("NC", "Charlotte", "Mecklenburg", 35.227, -80.843, "282", "KCLT", E, 25.0),
    city("NC", "Raleigh", "Wake", 35.780, -78.639, "276", "KRDU", E, 20.0),
    city("NC", "Greensboro", "Guilford", 36.073, -79.792, "274", "KGSO", E, 6.0),
    city("NC", "Durham", "Durham", 35.994, -78.899, "277", "KRDU", E, 5.0),
    city("VA", "Richmond", "Richmond City", 37.541, -77.436, "232", "KRIC", E, 10.0),
    city("VA", "Virginia Beach", "Virginia Beach City", 36.853, -75.978, "234", "KNTU", E, 6.0),
    city("VA", "Norfolk", "Norfolk City", 36.851, -76.286, "235", "KORF", E, 5.0),
    city("VA", "Arlington", "Arlington", 38.880, -77.107, "222", "KDCA", E, 6.0),
    city("VA", "Alexandria", "Alexandria City", 38.805, -77.047, "223", "KDCA", E, 4.0),
    city("PA", "Philadelphia", "Philadelphia", 39.953, -75.165, "191", "KPHL", E, 15.0),
    city("PA", "Pittsburgh", "Allegheny", 40.441, -79.996, "152", "KPIT", E, 8.0),
    city("PA", "Harrisburg", "Dauphin", 40.273, -76.887, "171", "KMDT", E, 4.0),
    city("PA", "Allentown", "Lehigh", 40.608, -75.490, "181", "KABE", E, 3.0),
    city("MN", "Minneapolis", "Hennepin", 44.978, -93.265, "554", "KMSP", C, 15.0),
    city("MN", "Saint Paul", "Ramsey", 44.954, -93.090, "551", "KSTP", C, 8.0),
    city("MN", "Rochester", "Olmsted", 44.012, -92.480, "559", "KRST", C, 2.0),
    city("OR", "Portland", "Multnomah", 45.515, -122.679, "972", "KPDX", P, 15.0),
    city("OR", "Salem", "Marion", 44.943, -123.035, "973", "KSLE", P, 4.0),
    city("OR", "Eugene", "Lane", 44.052, -123.087, "974", "KEUG", P, 4.0),
    city("AZ", "Phoenix", "Maricopa", 33.448, -112.074, "850", "KPHX", M, 15.0),
    city("AZ", "Tucson", "Pima", 32.222, -110.975, "857", "KTUS", M, 5.0),
    city("AZ", "Mesa", "Maricopa", 33.415, -111.831, "852", "KFFZ", M, 3.0),
    city("GA", "Atlanta", "Fulton", 33.749, -84.388, "303", "KATL", E, 20.0),
    city("GA", "Savannah", "Chatham", 32.081, -81.091, "314", "KSAV", E, 3.0),
    city("GA", "Augusta", "Richmond", 33.474, -82.010, "309", "KAGS", E, 2.0),
    city("IL", "Chicago", "Cook", 41.878, -87.630, "606", "KMDW", C, 20.0),
    city("IL", "Naperville", "DuPage", 41.786, -88.147, "605", "KDPA", C, 3.0),
    city("IL", "Springfield", "Sangamon", 39.781, -89.650, "627", "KSPI", C, 2.0),
    city("TN", "Nashville", "Davidson", 36.163, -86.781, "372", "KBNA", C, 15.0),
    city("TN", "Memphis", "Shelby", 35.150, -90.049, "381", "KMEM", C, 10.0),
    city("TN", "Knoxville", "Knox", 35.961, -83.921, "379", "KTYS", E, 5.0),
    city("TN", "Chattanooga", "Hamilton", 35.046, -85.310, "374", "KCHA", E, 4.0),
    city("MI", "Detroit", "Wayne", 42.331, -83.046, "482", "KDET", E, 15.0),
    city("MI", "Grand Rapids", "Kent", 42.963, -85.668, "495", "KGRR", E, 6.0),
    city("MI", "Lansing", "Ingham", 42.733, -84.556, "489", "KLAN", E, 3.0),
    city("LA", "Baton Rouge", "East Baton Rouge", 30.452, -91.187, "708", "KBTR", C, 10.0),
    city("LA", "New Orleans", "Orleans", 29.951, -90.072, "701", "KMSY", C, 8.0),
    city("LA", "Shreveport", "Caddo", 32.525, -93.750, "711", "KSHV", C, 4.0),
    city("NJ", "Newark", "Essex", 40.736, -74.172, "071", "KEWR", E, 8.0),
    city("NJ", "Jersey City", "Hudson", 40.718, -74.043, "073", "KEWR", E, 4.0),
    city("NJ", "Trenton", "Mercer", 40.221, -74.756, "086", "KTTN", E, 3.0),
    city("NJ", "Paterson", "Passaic", 40.917, -74.172, "075", "KCDW", E, 3.0),
    city("MD", "Baltimore", "Baltimore City", 39.290, -76.612, "212", "KBWI", E, 12.0),
    city("MD", "Silver Spring", "Montgomery", 38.991, -77.026, "209", "KCGS", E, 6.0),
    city("MD", "Annapolis", "Anne Arundel", 38.978, -76.492, "214", "KNAK", E, 3.0),
    city("OH", "Columbus", "Franklin", 39.961, -82.999, "432", "KCMH", E, 8.0),
    city("OH", "Cleveland", "Cuyahoga", 41.499, -81.694, "441", "KCLE", E, 6.0),
    city("OH", "Cincinnati", "Hamilton", 39.103, -84.512, "452", "KLUK", E, 6.0),
    city("OH", "Dayton", "Montgomery", 39.758, -84.192, "454", "KDAY", E, 3.0),
    city("WA", "Seattle", "King", 47.606, -122.332, "981", "KSEA", P, 12.0),
    city("WA", "Tacoma", "Pierce", 47.253, -122.444, "984", "KTIW", P, 4.0),
    city("WA", "Spokane", "Spokane", 47.659, -117.426, "992", "KGEG", P, 3.0),
    city("AL", "Birmingham", "Jefferson", 33.519, -86.810, "352", "KBHM", C, 8.0),
    city("AL", "Montgomery", "Montgomery", 32.367, -86.300, "361", "KMGM", C, 4.0),
    city("AL", "Mobile", "Mobile", 30.695, -88.040, "366", "KMOB", C, 4.0),
    city("UT", "Salt Lake City", "Salt Lake", 40.761, -111.891, "841", "KSLC", M, 12.0),
    city("UT", "Provo", "Utah", 40.234, -111.659, "846", "KPVU", M, 3.0),
    city("UT", "Ogden", "Weber", 41.223, -111.974, "844", "KOGD", M, 3.0),
    city("CO", "Denver", "Denver", 39.739, -104.990, "802", "KDEN", M, 12.0),
    city("CO", "Colorado Springs", "El Paso", 38.834, -104.821, "809", "KCOS", M, 4.0),
    city("CO", "Aurora", "Arapahoe", 39.729, -104.832, "800", "KBKF", M, 3.0),
    city("OK", "Oklahoma City", "Oklahoma", 35.468, -97.516, "731", "KOKC", C, 10.0),
    city("OK", "Tulsa", "Tulsa", 36.154, -95.993, "741", "KTUL", C, 6.0),
    city("MO", "Saint Louis", "Saint Louis City", 38.627, -90.199, "631", "KSTL", C, 8.0),
    city("MO", "Kansas City", "Jackson", 39.100, -94.579, "641", "KMCI", C, 8.0),
    city("MO", "Springfield", "Greene", 37.209, -93.292, "658", "KSGF", C, 3.0),
    city("CT", "Hartford", "Hartford", 41.764, -72.685, "061", "KHFD", E, 5.0),
    city("CT", "New Haven", "New Haven", 41.308, -72.928, "065", "KHVN", E, 4.0),
    city("CT", "Bridgeport", "Fairfield", 41.187, -73.195, "066", "KBDR", E, 3.0),
    city("IN", "Indianapolis", "Marion", 39.768, -86.158, "462", "KIND", E, 12.0),
    city("IN", "Fort Wayne", "Allen", 41.079, -85.139, "468", "KFWA", E, 3.0),
    city("IN", "Evansville", "Vanderburgh", 37.972, -87.571, "477", "KEVV", C, 2.0),
    city("MA", "Boston", "Suffolk", 42.360, -71.059, "021", "KBOS", E, 10.0),
    city("MA", "Worcester", "Worcester", 42.263, -71.802, "016", "KORH", E, 3.0),
    city("MA", "Springfield", "Hampden", 42.102, -72.590, "011", "KCEF", E, 2.0),
    city("WI", "Milwaukee", "Milwaukee", 43.039, -87.906, "532", "KMKE", C, 8.0),
    city("WI", "Madison", "Dane", 43.073, -89.401, "537", "KMSN", C, 5.0),
    city("KY", "Louisville", "Jefferson", 38.253, -85.759, "402", "KSDF", E, 8.0),
    city("KY", "Lexington", "Fayette", 38.041, -84.504, "405", "KLEX", E, 4.0),
    city("NE", "Omaha", "Douglas", 41.257, -95.934, "681", "KOMA", C, 8.0),
    city("NE", "Lincoln", "Lancaster", 40.814, -96.702, "685", "KLNK", C, 4.0),
    city("MT", "Billings", "Yellowstone", 45.783, -108.500, "591", "KBIL", M, 4.0),
    city("MT", "Missoula", "Missoula", 46.872, -113.994, "598", "KMSO", M, 4.0),
    city("MT", "Bozeman", "Gallatin", 45.677, -111.043, "597", "KBZN", M, 3.0),
    city("IA", "Des Moines", "Polk", 41.587, -93.625, "503", "KDSM", C, 6.0),
    city("IA", "Cedar Rapids", "Linn", 41.978, -91.666, "524", "KCID", C, 3.0),
    city("AR", "Little Rock", "Pulaski", 34.746, -92.290, "722", "KLIT", C, 6.0),
    city("AR", "Fayetteville", "Washington", 36.063, -94.157, "727", "KFYV", C, 2.0),
    city("NV", "Las Vegas", "Clark", 36.170, -115.140, "891", "KLAS", P, 8.0),
    city("NV", "Reno", "Washoe", 39.530, -119.814, "895", "KRNO", P, 3.0),
    city("KS", "Wichita", "Sedgwick", 37.687, -97.330, "672", "KICT", C, 5.0),
    city("KS", "Kansas City", "Wyandotte", 39.114, -94.627, "661", "KMKC", C, 3.0),
    city("KS", "Topeka", "Shawnee", 39.056, -95.689, "666", "KTOP", C, 2.0),
    city("DC", "Washington", "District of Columbia", 38.907, -77.037, "200", "KDCA", E, 1.0),
    city("RI", "Providence", "Providence", 41.824, -71.413, "029", "KPVD", E, 6.0),
    city("RI", "Warwick", "Kent", 41.700, -71.416, "028", "KPVD", E, 2.0),
    city("MS", "Jackson", "Hinds", 32.299, -90.185, "392", "KJAN", C, 5.0),
    city("MS", "Gulfport", "Harrison", 30.367, -89.093, "395", "KGPT", C, 2.0),
    city("DE", "Wilmington", "New Castle", 39.740, -75.547, "198", "KILG", E, 5.0),
    city("DE", "Dover", "Kent", 39.158, -75.524, "199", "KDOV", E, 2.0),
    city("WV", "Charleston", "Kanawha", 38.350, -81.633, "253", "KCRW", E, 4.0),
    city("WV", "Morgantown", "Monongalia", 39.630, -79.956, "265", "KMGW", E, 2.0),
    city("ID", "Boise", "Ada", 43.615, -116.202, "837", "KBOI", M, 5.0),
    city("ID", "Idaho Falls", "Bonneville", 43.492, -112.034, "834", "KIDA", M, 1.0),
    city("NM", "Albuquerque", "Bernalillo", 35.084, -106.650, "871", "KABQ", M, 5.0),
    city("NM", "Santa Fe", "Santa Fe", 35.687, -105.938, "875", "KSAF", M, 2.0),
    city("NH", "Manchester", "Hillsborough", 42.996, -71.455, "031", "KMHT", E, 4.0),
    city("NH", "Concord", "Merrimack", 43.208, -71.538, "033", "KCON", E, 2.0),
    city("WY", "Cheyenne", "Laramie", 41.140, -104.820, "820", "KCYS", M, 3.0),
    city("WY", "Casper", "Natrona", 42.867, -106.313, "826", "KCPR", M, 2.0),
    city("ND", "Fargo", "Cass", 46.877, -96.790, "581", "KFAR", C, 3.0),
    city("ND", "Bismarck", "Burleigh", 46.809, -100.784, "585", "KBIS", C, 2.0),
    city("ME", "Portland", "Cumberland", 43.659, -70.257, "041", "KPWM", E, 3.0),
    city("ME", "Bangor", "Penobscot", 44.801, -68.778, "044", "KBGR", E, 1.0),
    city("VT", "Burlington", "Chittenden", 44.476, -73.212, "054", "KBTV", E, 3.0),
    city("VT", "Montpelier", "Washington", 44.260, -72.576, "056", "KMPV", E, 1.0),
    city("SD", "Sioux Falls", "Minnehaha", 43.545, -96.731, "571", "KFSD", C, 3.0),
    city("SD", "Rapid City", "Pennington", 44.080, -103.231, "577", "KRAP", M, 1.0),
];

/// Weighted sampler of a state, then of a city of that state.
#[derive(Debug, Clone)]
pub struct Places {
    states: WeightedIndex<f64>,
    cities_by_state: Vec<(Vec<&'static City>, WeightedIndex<f64>)>,
}

impl Places {
    /// Builds the samplers from [`STATE_SHARES`] and [`CITIES`]; `None` when a state has no city
    /// (a bug in the tables, caught by the unit tests).
    pub fn new() -> Option<Self> {
        let states = WeightedIndex::new(STATE_SHARES.iter().map(|(_, share)| *share)).ok()?;
        let mut cities_by_state = Vec::with_capacity(STATE_SHARES.len());
        for (state, _) in STATE_SHARES {
            let cities: Vec<&'static City> = CITIES.iter().filter(|c| c.state == state).collect();
            let weights = WeightedIndex::new(cities.iter().map(|c| c.weight)).ok()?;
            cities_by_state.push((cities, weights));
        }
        Some(Self {
            states,
            cities_by_state,
        })
    }

    /// A random city, its state drawn with the dataset's state shares.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> &'static City {
        let (cities, weights) = &self.cities_by_state[self.states.sample(rng)];
        cities[weights.sample(rng)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_cities_and_every_city_a_state() {
        assert!(Places::new().is_some());
        for c in CITIES {
            assert!(
                STATE_SHARES.iter().any(|(s, _)| *s == c.state),
                "{}",
                c.name
            );
            assert!((24.0..50.0).contains(&c.lat) && (-125.0..-66.0).contains(&c.lng));
        }
        let mut codes: Vec<_> = STATE_SHARES.iter().map(|(s, _)| *s).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 49, "48 contiguous states + DC");
        assert!(!codes.contains(&"AK") && !codes.contains(&"HI"));
    }
}
