//! Chemical elements: symbols and atomic masses for Z = 1..=118.
//!
//! Masses are ASE's `ase.data.atomic_masses` (IUPAC 2016 standard atomic weights, with ASE's
//! choices for elements without a stable isotope), so that kinetic energies, temperatures and
//! centres of mass agree with ASE to the last digit. `tests/io_golden.rs` checks the table
//! against the golden file written by `scripts/gen_atoms_io_golden.py`.

/// Largest atomic number known here (oganesson).
pub const MAX_Z: u8 = 118;

/// Element symbols indexed by `Z - 1`, capitalised as ASE writes them ("C", "Cl").
const SYMBOLS: [&str; 118] = [
    "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl",
    "Ar", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As",
    "Se", "Br", "Kr", "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In",
    "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb",
    "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl",
    "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk",
    "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh",
    "Fl", "Mc", "Lv", "Ts", "Og",
];

/// Atomic masses in amu indexed by `Z - 1` (ASE's `atomic_masses[1:]`).
const MASSES: [f64; 118] = [
    1.008,        // 1 H
    4.002602,     // 2 He
    6.94,         // 3 Li
    9.0121831,    // 4 Be
    10.81,        // 5 B
    12.011,       // 6 C
    14.007,       // 7 N
    15.999,       // 8 O
    18.998403163, // 9 F
    20.1797,      // 10 Ne
    22.98976928,  // 11 Na
    24.305,       // 12 Mg
    26.9815385,   // 13 Al
    28.085,       // 14 Si
    30.973761998, // 15 P
    32.06,        // 16 S
    35.45,        // 17 Cl
    39.948,       // 18 Ar
    39.0983,      // 19 K
    40.078,       // 20 Ca
    44.955908,    // 21 Sc
    47.867,       // 22 Ti
    50.9415,      // 23 V
    51.9961,      // 24 Cr
    54.938044,    // 25 Mn
    55.845,       // 26 Fe
    58.933194,    // 27 Co
    58.6934,      // 28 Ni
    63.546,       // 29 Cu
    65.38,        // 30 Zn
    69.723,       // 31 Ga
    72.63,        // 32 Ge
    74.921595,    // 33 As
    78.971,       // 34 Se
    79.904,       // 35 Br
    83.798,       // 36 Kr
    85.4678,      // 37 Rb
    87.62,        // 38 Sr
    88.90584,     // 39 Y
    91.224,       // 40 Zr
    92.90637,     // 41 Nb
    95.95,        // 42 Mo
    97.90721,     // 43 Tc
    101.07,       // 44 Ru
    102.9055,     // 45 Rh
    106.42,       // 46 Pd
    107.8682,     // 47 Ag
    112.414,      // 48 Cd
    114.818,      // 49 In
    118.71,       // 50 Sn
    121.76,       // 51 Sb
    127.6,        // 52 Te
    126.90447,    // 53 I
    131.293,      // 54 Xe
    132.90545196, // 55 Cs
    137.327,      // 56 Ba
    138.90547,    // 57 La
    140.116,      // 58 Ce
    140.90766,    // 59 Pr
    144.242,      // 60 Nd
    144.91276,    // 61 Pm
    150.36,       // 62 Sm
    151.964,      // 63 Eu
    157.25,       // 64 Gd
    158.92535,    // 65 Tb
    162.5,        // 66 Dy
    164.93033,    // 67 Ho
    167.259,      // 68 Er
    168.93422,    // 69 Tm
    173.054,      // 70 Yb
    174.9668,     // 71 Lu
    178.49,       // 72 Hf
    180.94788,    // 73 Ta
    183.84,       // 74 W
    186.207,      // 75 Re
    190.23,       // 76 Os
    192.217,      // 77 Ir
    195.084,      // 78 Pt
    196.966569,   // 79 Au
    200.592,      // 80 Hg
    204.38,       // 81 Tl
    207.2,        // 82 Pb
    208.9804,     // 83 Bi
    208.98243,    // 84 Po
    209.98715,    // 85 At
    222.01758,    // 86 Rn
    223.01974,    // 87 Fr
    226.02541,    // 88 Ra
    227.02775,    // 89 Ac
    232.0377,     // 90 Th
    231.03588,    // 91 Pa
    238.02891,    // 92 U
    237.04817,    // 93 Np
    244.06421,    // 94 Pu
    243.06138,    // 95 Am
    247.07035,    // 96 Cm
    247.07031,    // 97 Bk
    251.07959,    // 98 Cf
    252.083,      // 99 Es
    257.09511,    // 100 Fm
    258.09843,    // 101 Md
    259.101,      // 102 No
    262.11,       // 103 Lr
    267.122,      // 104 Rf
    268.126,      // 105 Db
    271.134,      // 106 Sg
    270.133,      // 107 Bh
    269.1338,     // 108 Hs
    278.156,      // 109 Mt
    281.165,      // 110 Ds
    281.166,      // 111 Rg
    285.177,      // 112 Cn
    286.182,      // 113 Nh
    289.19,       // 114 Fl
    289.194,      // 115 Mc
    293.204,      // 116 Lv
    293.208,      // 117 Ts
    294.214,      // 118 Og
];

/// Symbol of element `z` ("X" for 0 or anything above [`MAX_Z`], ASE's dummy atom).
pub fn symbol(z: u8) -> &'static str {
    if z == 0 || z > MAX_Z {
        "X"
    } else {
        SYMBOLS[usize::from(z) - 1]
    }
}

/// Atomic number of a symbol. Exact case first ("Cl"); otherwise the case-insensitive match,
/// because plain XYZ files from some programs write "CL" or "cl". `None` when unknown.
pub fn number(sym: &str) -> Option<u8> {
    let sym = sym.trim();
    if let Some(i) = SYMBOLS.iter().position(|&s| s == sym) {
        return u8::try_from(i + 1).ok();
    }
    SYMBOLS
        .iter()
        .position(|s| s.eq_ignore_ascii_case(sym))
        .and_then(|i| u8::try_from(i + 1).ok())
}

/// Atomic mass of element `z` in amu; `NaN` for 0 or `z` above [`MAX_Z`] so that an invalid
/// number cannot silently produce a plausible kinetic energy (structures are validated on
/// construction, so this only shows up for hand-made numbers).
pub fn mass(z: u8) -> f64 {
    if z == 0 || z > MAX_Z {
        f64::NAN
    } else {
        MASSES[usize::from(z) - 1]
    }
}

/// All symbols, `Z = 1..=118` in order.
pub fn symbols() -> &'static [&'static str] {
    &SYMBOLS
}

/// All masses in amu, `Z = 1..=118` in order.
pub fn masses() -> &'static [f64] {
    &MASSES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_round_trip() {
        for z in 1..=MAX_Z {
            assert_eq!(number(symbol(z)), Some(z));
        }
        assert_eq!(symbol(6), "C");
        assert_eq!(symbol(17), "Cl");
        assert_eq!(number("CL"), Some(17));
        assert_eq!(number("Xx"), None);
        assert_eq!(symbol(0), "X");
    }

    #[test]
    fn common_masses() {
        assert_eq!(mass(1), 1.008);
        assert_eq!(mass(6), 12.011);
        assert_eq!(mass(8), 15.999);
        assert!(mass(0).is_nan());
    }
}
