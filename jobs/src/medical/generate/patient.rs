//! One simulated sickle-cell patient: a profile (age, sex, genotype, region, prescriptions) and a
//! day-by-day simulation of the wearable's readings every 5 minutes.
//!
//! The physiology is deliberately simple but keeps the correlations the jobs look for:
//! - SpO2 sits at a genotype-dependent baseline (about 95-96 % for SS/Sβ0, 97-98 % for SC/Sβ+),
//!   drops during sleep, during nocturnal desaturation episodes (down to the 80s), fevers and
//!   crises;
//! - heart and breathing rates follow the day/night cycle and activity, and rise with fever and pain;
//! - fevers (infections) start at random and make a vaso-occlusive crisis three times as likely
//!   while they last and for a day after; crises are more frequent in the cold, dry harmattan
//!   months (December to February) and half as frequent on hydroxyurea;
//! - the device is off for an hour or two most days (charging) and sometimes for days, and sends a
//!   physically impossible value (SpO2 127 %, 50 °C, ...) about twice in a thousand readings.
//!
//! Three small cohorts, chosen by patient number (so the other patients' data stays the same),
//! give every rule of the longitudinal jobs (SPEC 5b) something to find:
//! - patients 3, 13, 23, ... ([`Cohort::WorseningSpo2`]): from day 14 their baseline SpO2 falls
//!   by [`SPO2_DECLINE_PER_DAY`] a day, down to 88 % (negative weekly slopes, medians crossing the
//!   95 % and 92 % risk thresholds);
//! - patients 5, 15, 25, ... ([`Cohort::GappyDevice`]): the device sends nothing one day in
//!   [`GAP_EVERY_DAYS`] (gap days and low completeness in the quality audit and the dashboards);
//! - patients 7, 17, 27, ... ([`Cohort::LateHydroxyurea`]): crises three times as likely until
//!   hydroxyurea starts on day [`LATE_TREATMENT_DAY`] (a treatment with a crisis rate before and
//!   during it).

use chrono::{Datelike, Duration, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::accidents::generate::distributions::{normal, round_to};
use crate::medical::schema::READINGS_PER_DAY;

/// Cameroon's ten regions and their relative share of the cohort.
const REGIONS: [(&str, f64); 10] = [
    ("Centre", 0.22),
    ("Littoral", 0.20),
    ("Ouest", 0.12),
    ("Nord-Ouest", 0.08),
    ("Sud-Ouest", 0.08),
    ("Extreme-Nord", 0.10),
    ("Nord", 0.07),
    ("Adamaoua", 0.05),
    ("Est", 0.04),
    ("Sud", 0.04),
];

/// Share of each genotype of [`GENOTYPES`](crate::medical::schema::GENOTYPES) in the cohort.
const GENOTYPE_SHARES: [f64; 4] = [0.65, 0.08, 0.20, 0.07];

/// Daily crisis hazard per genotype, before season, fever and treatment.
const CRISIS_HAZARD: [f64; 4] = [0.012, 0.011, 0.005, 0.004];

/// Relative crisis hazard per month, January first: the harmattan (cold, dry) peaks.
const MONTH_FACTOR: [f64; 12] = [
    1.5, 1.4, 1.1, 0.9, 0.85, 0.8, 0.9, 0.95, 0.9, 0.95, 1.1, 1.4,
];

/// How much hydroxyurea multiplies the crisis hazard.
const HYDROXYUREA_FACTOR: f64 = 0.5;

/// How much a fever (or the day after it) multiplies the crisis hazard.
const FEVER_CRISIS_FACTOR: f64 = 3.0;

/// Daily chance that a fever (an infection) starts.
const FEVER_HAZARD: f64 = 0.012;

/// Chance that a reading carries a physically impossible value.
const GLITCH_RATE: f64 = 0.002;

/// Microseconds in a 5-minute slot.
const SLOT_MICROS: i64 = 5 * 60 * 1_000_000;

/// Readings per hour.
const SLOTS_PER_HOUR: i64 = 12;

/// SpO2 points a day a [`Cohort::WorseningSpo2`] patient's baseline loses after day 14.
pub const SPO2_DECLINE_PER_DAY: f64 = 0.06;

/// Lowest baseline SpO2 the decline reaches.
const SPO2_DECLINE_FLOOR: f64 = 88.0;

/// First day (from the origin) of the SpO2 decline.
const SPO2_DECLINE_START_DAY: i64 = 14;

/// A [`Cohort::GappyDevice`] device sends nothing one day in this many.
pub const GAP_EVERY_DAYS: i64 = 9;

/// The day (from the origin) a [`Cohort::LateHydroxyurea`] patient starts hydroxyurea.
pub const LATE_TREATMENT_DAY: i64 = 45;

/// How much more likely crises are before a [`Cohort::LateHydroxyurea`] patient's treatment.
const LATE_TREATMENT_CRISIS_FACTOR: f64 = 3.0;

/// The special cohort a patient belongs to (by patient number), if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cohort {
    /// Baseline SpO2 falling day after day.
    WorseningSpo2,
    /// A device that stays off whole days.
    GappyDevice,
    /// Frequent crises until hydroxyurea starts during the data.
    LateHydroxyurea,
}

impl Cohort {
    /// The cohort of patient number `number` (from 1): 3, 5 and 7 modulo 10.
    pub fn of(number: u32) -> Option<Self> {
        match number % 10 {
            3 => Some(Cohort::WorseningSpo2),
            5 => Some(Cohort::GappyDevice),
            7 => Some(Cohort::LateHydroxyurea),
            _ => None,
        }
    }
}

/// A prescription of the patient.
#[derive(Debug, Clone, PartialEq)]
pub struct Treatment {
    /// The drug.
    pub drug: &'static str,
    /// First day.
    pub start: NaiveDate,
    /// Last day, if it stopped.
    pub end: Option<NaiveDate>,
    /// Daily dose in milligrams.
    pub dose_mg: f64,
}

/// A vaso-occlusive crisis.
#[derive(Debug, Clone, PartialEq)]
pub struct Crisis {
    /// Start, microseconds since the epoch (local time).
    pub start: i64,
    /// End, microseconds since the epoch; `None` if still going on at the end of the data.
    pub end: Option<i64>,
    /// 1 mild, 2 moderate, 3 severe.
    pub severity: i32,
    /// Pain on a 0-10 scale.
    pub pain_score: i32,
}

/// One reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// Microseconds since the epoch (local time).
    pub ts: i64,
    /// Which of the patient's devices sent it.
    pub device: u32,
    /// SpO2 in percent.
    pub spo2: Option<f64>,
    /// Heart rate, beats per minute.
    pub heart_rate: Option<i32>,
    /// Skin temperature, °C.
    pub temperature: Option<f64>,
    /// Breaths per minute.
    pub respiratory_rate: Option<i32>,
    /// Steps in the last 5 minutes.
    pub steps: Option<i32>,
    /// 0 (noise) to 1 (clean signal).
    pub signal_quality: f64,
}

/// The fixed traits of a patient.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// `P000001`...
    pub id: String,
    /// Year of birth.
    pub birth_year: i32,
    /// `F` or `M`.
    pub sex: &'static str,
    /// Index into [`GENOTYPES`](crate::medical::schema::GENOTYPES).
    pub genotype: usize,
    /// Region of residence.
    pub region: &'static str,
    /// Long-term prescriptions (folic acid, hydroxyurea, penicillin).
    pub treatments: Vec<Treatment>,
}

/// A time-limited episode, in 5-minute slots counted from the start of the data.
#[derive(Debug, Clone, Copy)]
struct Episode {
    start: i64,
    end: i64,
    /// Fever: peak °C above normal; desaturation: SpO2 points lost; crisis: severity.
    size: f64,
}

impl Episode {
    fn contains(&self, slot: i64) -> bool {
        (self.start..self.end).contains(&slot)
    }

    /// 0 → 1 → 0 over the episode (a smooth bump).
    fn shape(&self, slot: i64) -> f64 {
        if !self.contains(slot) {
            return 0.0;
        }
        let x = (slot - self.start) as f64 / (self.end - self.start).max(1) as f64;
        (std::f64::consts::PI * x).sin().sqrt()
    }
}

/// The patient's simulation: profile, random stream and the state carried from day to day.
pub struct PatientSim {
    /// Who the patient is.
    pub profile: Profile,
    /// The special cohort the patient belongs to, if any.
    pub cohort: Option<Cohort>,
    /// Crises so far.
    pub crises: Vec<Crisis>,
    /// Analgesics prescribed for crises.
    pub crisis_treatments: Vec<Treatment>,
    rng: ChaCha8Rng,
    baseline_spo2: f64,
    baseline_hr: f64,
    baseline_resp: f64,
    sleep_shift: f64,
    base_steps: f64,
    origin: NaiveDate,
    fever: Option<Episode>,
    crisis: Option<Episode>,
    desaturation: Option<Episode>,
    gap: Option<Episode>,
    last_fever_end: i64,
    device: u32,
    spo2_noise: f64,
    hr_noise: f64,
}

fn pick<R: Rng + ?Sized>(rng: &mut R, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.r#gen::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Microseconds since the epoch of midnight starting `day`.
pub fn day_micros(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_micros())
}

impl PatientSim {
    /// Patient number `number` (from 1), drawn from `rng`, for data starting on `origin`.
    pub fn new(number: u32, mut rng: ChaCha8Rng, origin: NaiveDate) -> Self {
        // A paediatric-heavy cohort, like sickle-cell clinics: ages 1 to 60.
        let age = if rng.gen_bool(0.55) {
            rng.gen_range(1..18)
        } else {
            rng.gen_range(18..61)
        };
        let birth_year = origin.year() - age;
        let sex = if rng.gen_bool(0.5) { "F" } else { "M" };
        let genotype = pick(&mut rng, &GENOTYPE_SHARES);
        let region = REGIONS[pick(&mut rng, &REGIONS.map(|(_, w)| w))].0;
        let severe = genotype < 2;
        let mut treatments = Vec::new();
        if rng.gen_bool(0.8) {
            treatments.push(Treatment {
                drug: "folic_acid",
                start: origin - Duration::days(rng.gen_range(30..2000)),
                end: None,
                dose_mg: 5.0,
            });
        }
        if age < 5 {
            treatments.push(Treatment {
                drug: "penicillin_v",
                start: origin - Duration::days(rng.gen_range(30..(age as i64 * 365).max(60))),
                end: None,
                dose_mg: if age < 3 { 125.0 } else { 250.0 },
            });
        }
        if rng.gen_bool(if severe { 0.55 } else { 0.15 }) {
            let weight_kg = if age < 18 {
                8.0 + 3.0 * age as f64
            } else {
                normal(&mut rng, 62.0, 9.0).clamp(40.0, 100.0)
            };
            // 15-30 mg/kg/day, rounded to whole 100 mg capsules (at least one).
            let dose = (rng.gen_range(15.0..30.0) * weight_kg / 100.0)
                .round()
                .max(1.0)
                * 100.0;
            // Most started long ago; some start during the data (their crises become rarer).
            let start = if rng.gen_bool(0.75) {
                origin - Duration::days(rng.gen_range(60..1500))
            } else {
                origin + Duration::days(rng.gen_range(0..60))
            };
            treatments.push(Treatment {
                drug: "hydroxyurea",
                start,
                end: None,
                dose_mg: dose,
            });
        }
        let cohort = Cohort::of(number);
        if cohort == Some(Cohort::LateHydroxyurea) {
            // whatever hydroxyurea was drawn above is replaced by one starting during the data
            treatments.retain(|t| t.drug != "hydroxyurea");
            treatments.push(Treatment {
                drug: "hydroxyurea",
                start: origin + Duration::days(LATE_TREATMENT_DAY),
                end: None,
                dose_mg: 500.0,
            });
        }
        let baseline_spo2 = match genotype {
            0 | 1 => normal(&mut rng, 95.3, 0.8),
            _ => normal(&mut rng, 97.3, 0.6),
        }
        .clamp(92.5, 98.8);
        let baseline_hr = if age < 12 {
            normal(&mut rng, 98.0, 8.0)
        } else {
            normal(&mut rng, 76.0, 7.0)
        };
        let baseline_resp = if age < 12 {
            normal(&mut rng, 22.0, 2.0)
        } else {
            normal(&mut rng, 15.0, 1.5)
        };
        let base_steps = if age < 18 { 75.0 } else { 55.0 } * normal(&mut rng, 1.0, 0.2).max(0.3);
        let sleep_shift = normal(&mut rng, 0.0, 0.6);
        PatientSim {
            cohort,
            profile: Profile {
                id: format!("P{number:06}"),
                birth_year,
                sex,
                genotype,
                region,
                treatments,
            },
            crises: Vec::new(),
            crisis_treatments: Vec::new(),
            rng,
            baseline_spo2,
            baseline_hr,
            baseline_resp,
            sleep_shift,
            base_steps,
            origin,
            fever: None,
            crisis: None,
            desaturation: None,
            gap: None,
            last_fever_end: i64::MIN / 2,
            device: 1,
            spo2_noise: 0.0,
            hr_noise: 0.0,
        }
    }

    /// The patient's device id for device number `n`.
    pub fn device_id(&self, n: u32) -> String {
        format!("D{}-{n}", &self.profile.id[1..])
    }

    fn on_hydroxyurea(&self, day: NaiveDate) -> bool {
        self.profile.treatments.iter().any(|t| {
            t.drug == "hydroxyurea" && t.start <= day && t.end.is_none_or(|end| day <= end)
        })
    }

    /// The micros timestamp of `slot` (5-minute slots since the origin).
    fn slot_micros(&self, slot: i64) -> i64 {
        day_micros(self.origin) + slot * SLOT_MICROS
    }

    /// Decides the events starting on day number `day_index` (fevers, crises, device gaps).
    fn start_of_day(&mut self, day_index: i64, day: NaiveDate) {
        let first = day_index * i64::from(READINGS_PER_DAY);
        let per_day = i64::from(READINGS_PER_DAY);
        let rng = &mut self.rng;
        if self.fever.is_none_or(|f| f.end <= first) && rng.gen_bool(FEVER_HAZARD) {
            let start = first + rng.gen_range(0..per_day);
            let end = start + rng.gen_range(12 * SLOTS_PER_HOUR..72 * SLOTS_PER_HOUR);
            self.fever = Some(Episode {
                start,
                end,
                size: rng.gen_range(1.0..2.4),
            });
            self.last_fever_end = end;
        }
        let crisis_free = self.crisis.is_none_or(|c| c.end + 3 * per_day <= first);
        if crisis_free {
            let mut hazard =
                CRISIS_HAZARD[self.profile.genotype] * MONTH_FACTOR[day.month0() as usize];
            if self.on_hydroxyurea(day) {
                hazard *= HYDROXYUREA_FACTOR;
            }
            if self.last_fever_end + per_day > first {
                hazard *= FEVER_CRISIS_FACTOR;
            }
            if self.cohort == Some(Cohort::LateHydroxyurea) && day_index < LATE_TREATMENT_DAY {
                hazard *= LATE_TREATMENT_CRISIS_FACTOR;
            }
            if self.rng.gen_bool(hazard.min(0.9)) {
                self.start_crisis(first, per_day, day);
            }
        }
        let rng = &mut self.rng;
        if self.gap.is_none_or(|g| g.end <= first) {
            if rng.gen_bool(0.004) {
                // The device is forgotten or broken for one to three days; a broken one is
                // replaced.
                let start = first + rng.gen_range(0..per_day);
                self.gap = Some(Episode {
                    start,
                    end: start + rng.gen_range(per_day..3 * per_day),
                    size: 0.0,
                });
                if rng.gen_bool(0.5) {
                    self.device += 1;
                }
            } else if rng.gen_bool(0.3) {
                // Charging: 30 minutes to 3 hours, in the evening mostly.
                let hour = normal(rng, 19.0, 3.0).clamp(0.0, 23.0);
                let start = first + (hour * SLOTS_PER_HOUR as f64) as i64;
                self.gap = Some(Episode {
                    start,
                    end: start + rng.gen_range(6..36),
                    size: 0.0,
                });
            }
        }
    }

    fn start_crisis(&mut self, first: i64, per_day: i64, day: NaiveDate) {
        let rng = &mut self.rng;
        let severe_genotype = self.profile.genotype < 2;
        let weights = if severe_genotype {
            [0.45, 0.35, 0.20]
        } else {
            [0.6, 0.3, 0.1]
        };
        let severity = pick(rng, &weights) as i32 + 1;
        let start = match self.fever {
            // A fever-triggered crisis starts a few hours into the fever.
            Some(f) if f.end > first => {
                (f.start + rng.gen_range(2..12) * SLOTS_PER_HOUR).max(first)
            }
            _ => first + rng.gen_range(0..per_day),
        };
        let days = rng.gen_range(1.0..2.5) + severity as f64 * rng.gen_range(0.5..1.5);
        let end = start + (days * per_day as f64) as i64;
        let pain = (2.0 * severity as f64 + 2.0 + normal(rng, 0.0, 1.0)).round();
        self.crisis = Some(Episode {
            start,
            end,
            size: severity as f64,
        });
        self.crises.push(Crisis {
            start: self.slot_micros(start),
            end: Some(self.slot_micros(end)),
            severity,
            pain_score: pain.clamp(1.0, 10.0) as i32,
        });
        let (drug, dose) = match severity {
            3 => ("morphine", 30.0),
            2 => ("ibuprofen", 1200.0),
            _ => ("paracetamol", 3000.0),
        };
        let end_day = day + Duration::days(days.ceil() as i64);
        self.crisis_treatments.push(Treatment {
            drug,
            start: day,
            end: Some(end_day),
            dose_mg: dose,
        });
    }

    /// Simulates day number `day_index` (0 = the origin) and appends its readings to `out`.
    pub fn simulate_day(&mut self, day_index: i64, out: &mut Vec<Reading>) {
        let day = self.origin + Duration::days(day_index);
        self.start_of_day(day_index, day);
        let per_day = i64::from(READINGS_PER_DAY);
        let first = day_index * per_day;
        let weekend = day.weekday().number_from_monday() >= 6;
        let activity_today = normal(&mut self.rng, if weekend { 1.1 } else { 1.0 }, 0.2).max(0.2);
        let hu_bonus = if self.on_hydroxyurea(day) { 0.4 } else { 0.0 };
        let severe = self.profile.genotype < 2;
        if self.cohort == Some(Cohort::GappyDevice) && day_index % GAP_EVERY_DAYS == 4 {
            // the whole day without a reading (the random draws above still happened)
            return;
        }
        let decline = self.spo2_decline(day_index);
        for slot in first..first + per_day {
            if self.gap.is_some_and(|g| g.contains(slot)) || self.rng.gen_bool(0.005) {
                continue;
            }
            let hour = (slot - first) as f64 / SLOTS_PER_HOUR as f64;
            let shifted = (hour - self.sleep_shift).rem_euclid(24.0);
            let asleep = !(6.5..22.5).contains(&shifted);
            if asleep
                && self.desaturation.is_none_or(|d| d.end <= slot)
                && self
                    .rng
                    .gen_bool(if severe { 0.006 } else { 0.0015 } * self.crisis_factor(slot))
            {
                self.desaturation = Some(Episode {
                    start: slot,
                    end: slot + self.rng.gen_range(2..10),
                    size: self.rng.gen_range(4.0..11.0),
                });
            }
            out.push(self.reading(slot, hour, asleep, activity_today, hu_bonus - decline));
        }
    }

    /// SpO2 points a [`Cohort::WorseningSpo2`] patient has lost by day number `day_index`; 0 for
    /// everyone else.
    fn spo2_decline(&self, day_index: i64) -> f64 {
        if self.cohort != Some(Cohort::WorseningSpo2) {
            return 0.0;
        }
        let days = (day_index - SPO2_DECLINE_START_DAY).max(0) as f64;
        (days * SPO2_DECLINE_PER_DAY).min((self.baseline_spo2 - SPO2_DECLINE_FLOOR).max(0.0))
    }

    /// 1, or more during a crisis (desaturation episodes are more frequent then).
    fn crisis_factor(&self, slot: i64) -> f64 {
        if self.crisis.is_some_and(|c| c.contains(slot)) {
            3.0
        } else {
            1.0
        }
    }

    fn reading(
        &mut self,
        slot: i64,
        hour: f64,
        asleep: bool,
        activity_today: f64,
        spo2_offset: f64,
    ) -> Reading {
        let fever = self.fever.map_or(0.0, |f| f.size * f.shape(slot));
        let crisis = self
            .crisis
            .filter(|c| c.contains(slot))
            .map_or(0.0, |c| c.size);
        let desaturation = self.desaturation.map_or(0.0, |d| d.size * d.shape(slot));
        let rng = &mut self.rng;
        // Activity: none asleep, less with fever or pain.
        let steps = if asleep || rng.gen_bool(0.35) {
            if rng.gen_bool(0.03) {
                rng.gen_range(1..20)
            } else {
                0
            }
        } else {
            let diurnal = 1.0 + 0.5 * ((hour - 10.0) / 24.0 * std::f64::consts::TAU).cos();
            let damp = 1.0 / (1.0 + 0.8 * fever + 1.2 * crisis);
            let mean = self.base_steps * activity_today * diurnal * damp;
            (mean * normal(rng, 0.0, 0.6).exp())
                .round()
                .clamp(0.0, 1500.0) as i32
        };
        self.hr_noise = 0.8 * self.hr_noise + normal(rng, 0.0, 2.0);
        self.spo2_noise = 0.7 * self.spo2_noise + normal(rng, 0.0, 0.45);
        let heart_rate = self.baseline_hr - if asleep { 11.0 } else { 0.0 }
            + (steps as f64 / 10.0).min(45.0)
            + 10.0 * fever
            + 7.0 * crisis
            + self.hr_noise;
        let resp = self.baseline_resp - if asleep { 2.0 } else { 0.0 }
            + steps as f64 / 120.0
            + 2.0 * fever
            + 1.5 * crisis
            + normal(rng, 0.0, 0.8);
        // Skin temperature: lowest around 4:00, highest around 18:00.
        let circadian = -0.25 * ((hour - 4.0) / 24.0 * std::f64::consts::TAU).cos();
        let temperature = 36.6 + circadian + fever + 0.1 * crisis + normal(rng, 0.0, 0.08);
        let spo2 = self.baseline_spo2 + spo2_offset
            - if asleep { 0.7 } else { 0.0 }
            - 0.8 * fever
            - 1.2 * crisis
            - desaturation
            + self.spo2_noise;
        let quality = (0.97 - steps as f64 / 3000.0 - normal(rng, 0.0, 0.04).abs()).clamp(0.2, 1.0);
        let mut reading = Reading {
            ts: day_micros(self.origin) + slot * SLOT_MICROS,
            device: self.device,
            spo2: Some(spo2.round().min(100.0)),
            heart_rate: Some(heart_rate.round() as i32),
            temperature: Some(round_to(temperature, 1)),
            respiratory_rate: Some(resp.round().max(6.0) as i32),
            steps: Some(steps),
            signal_quality: round_to(quality, 2),
        };
        if rng.gen_bool(0.003) {
            // The temperature probe lost contact.
            reading.temperature = None;
        }
        if rng.gen_bool(GLITCH_RATE) {
            reading.signal_quality = round_to(rng.gen_range(0.05..0.3), 2);
            match rng.gen_range(0..5) {
                0 => reading.spo2 = Some(127.0),
                1 => reading.spo2 = Some(rng.gen_range(101..106) as f64),
                2 => reading.temperature = Some(50.0),
                3 => reading.heart_rate = Some(if rng.gen_bool(0.5) { 0 } else { 300 }),
                _ => reading.respiratory_rate = Some(0),
            }
        }
        reading
    }

    /// Closes the data at the end of day number `days`: a crisis still going on has no end.
    pub fn finish(&mut self, days: i64) {
        let end = self.slot_micros(days * i64::from(READINGS_PER_DAY));
        for crisis in &mut self.crises {
            if crisis.end.is_some_and(|e| e > end) {
                crisis.end = None;
            }
        }
    }
}
