//! Units (constants as ASE 3.29, CODATA 2018, so conversions agree with ASE and schnetpack
//! to the last digit). chemlm works in eV, Å, fs and amu (ASE's choice, so files written by chemlm read in ASE
//! without conversion); data in other units are converted once, on read.

use serde::{Deserialize, Serialize};

/// kcal/mol expressed in eV (ASE 3.29's `units.kcal / units.mol`, CODATA 2018).
pub const KCAL_PER_MOL: f64 = 0.043_364_103_900_593_22;
/// kJ/mol in eV.
pub const KJ_PER_MOL: f64 = 0.010_364_269_574_711_572;
/// Hartree in eV (CODATA 2018, as ASE 3.29).
pub const HARTREE: f64 = 27.211_386_024_367_243;
/// Bohr in Å (CODATA 2018, as ASE 3.29).
pub const BOHR: f64 = 0.529_177_210_563_841_1;
/// Boltzmann constant in eV/K, exactly ASE 3.29's `units.kB` (which keeps this value).
pub const BOLTZMANN: f64 = 8.617_330_337_217_213e-5;
/// One fs in ASE's internal time unit Å·sqrt(amu/eV); velocities in the MD code are Å/fs and
/// this factor converts kinetic energies: E[eV] = 0.5 m[amu] v[Å/fs]^2 / FS_SQ where
/// `FS_SQ = (1 fs in ASE time)^2`.
pub const FS: f64 = 0.098_226_947_884_640_64;

/// An energy unit a file may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnergyUnit {
    /// electronvolt (chemlm's internal unit).
    Ev,
    /// millielectronvolt.
    Mev,
    /// kcal/mol (MD17, sGDML).
    KcalPerMol,
    /// kJ/mol.
    KjPerMol,
    /// Hartree.
    Hartree,
}

impl EnergyUnit {
    /// Factor that converts a value in this unit to eV.
    pub fn to_ev(self) -> f64 {
        match self {
            EnergyUnit::Ev => 1.0,
            EnergyUnit::Mev => 1e-3,
            EnergyUnit::KcalPerMol => KCAL_PER_MOL,
            EnergyUnit::KjPerMol => KJ_PER_MOL,
            EnergyUnit::Hartree => HARTREE,
        }
    }

    /// Parses the names users write (`eV`, `meV`, `kcal/mol`, `kJ/mol`, `Ha`, `hartree`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ev" => Some(EnergyUnit::Ev),
            "mev" => Some(EnergyUnit::Mev),
            "kcal/mol" | "kcal_mol" | "kcal-per-mol" => Some(EnergyUnit::KcalPerMol),
            "kj/mol" | "kj_mol" | "kj-per-mol" => Some(EnergyUnit::KjPerMol),
            "ha" | "hartree" => Some(EnergyUnit::Hartree),
            _ => None,
        }
    }
}

/// A length unit a file may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LengthUnit {
    /// Ångström (chemlm's internal unit).
    Angstrom,
    /// Bohr.
    Bohr,
}

impl LengthUnit {
    /// Factor that converts a value in this unit to Å.
    pub fn to_angstrom(self) -> f64 {
        match self {
            LengthUnit::Angstrom => 1.0,
            LengthUnit::Bohr => BOHR,
        }
    }

    /// Parses `A`, `Ang`, `Angstrom`, `Å`, `Bohr`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "a" | "ang" | "angstrom" | "å" => Some(LengthUnit::Angstrom),
            "bohr" | "a0" => Some(LengthUnit::Bohr),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kcal_matches_ase() {
        // ase.units.kcal / ase.units.mol, printed with repr() (ASE 3.29, CODATA 2018).
        assert_eq!(EnergyUnit::KcalPerMol.to_ev(), 0.04336410390059322);
        assert_eq!(EnergyUnit::Hartree.to_ev(), 27.211386024367243);
        assert_eq!(LengthUnit::Bohr.to_angstrom(), 0.5291772105638411);
        assert_eq!(EnergyUnit::parse("kcal/mol"), Some(EnergyUnit::KcalPerMol));
        assert_eq!(LengthUnit::parse("Bohr"), Some(LengthUnit::Bohr));
        assert_eq!(EnergyUnit::parse("furlong"), None);
    }
}
