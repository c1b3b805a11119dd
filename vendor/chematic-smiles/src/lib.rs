#![forbid(unsafe_code)]
//! `chematic-smiles` — OpenSMILES parser, writer, and canonical SMILES generator.
//!
//! # Quick start
//! ```rust
//! use chematic_smiles::{parse, write, canonical_smiles};
//!
//! let mol = parse("c1ccccc1").unwrap(); // benzene
//! assert_eq!(mol.atom_count(), 6);
//! assert_eq!(mol.bond_count(), 6);
//!
//! // Non-canonical write (DFS order).
//! let smiles = write(&mol);
//! let mol2 = parse(&smiles).unwrap();
//! assert_eq!(mol.atom_count(), mol2.atom_count());
//!
//! // Canonical SMILES (stable, unique).
//! let c1 = canonical_smiles(&mol);
//! let c2 = canonical_smiles(&parse("C1=CC=CC=C1").unwrap()); // Kekule benzene
//! // c1 and c2 differ because aromaticity differs, but both are stable.
//! assert_eq!(c1, canonical_smiles(&parse(&c1).unwrap()));
//! ```
//!
//! # Design
//! - Pure Rust: no C/C++ FFI, no unsafe.
//! - Single-pass recursive-descent parser; no separate lexer phase.
//! - WASM-compatible (no filesystem I/O, no threads).

mod allene;
pub mod batch;
pub mod canonical;
mod canonical_automorphism;
mod canonical_partition;
pub mod canonical_search;
pub mod cx;
pub mod error;
pub mod parser;
pub mod random_smiles;
pub mod rdkit;
pub mod rooted;
pub mod smi_file;
pub mod writer;

pub use batch::{
    BatchCanonicalRecord, BatchCanonicalResult, BatchCanonicalStreamResult, BatchCanonicalization,
    IdentityIndexBuild, SmilesBatchCanonicalizer, SmilesBatchReader, SmilesBatchReaderError,
    SmilesBatchStream, SmilesIdentityIndex, StreamTerminalReason,
};
pub use canonical::are_atoms_equivalent;
pub use canonical::{
    canonical_atom_order, canonical_smiles, canonical_smiles_stable_key,
    canonical_smiles_with_atom_order, equivalent_atom_classes, morgan_ranks,
};
pub use canonical_partition::topological_equivalence_classes;
pub use canonical_search::{
    CanonicalSearchStats, CanonicalizationError, CanonicalizationLimits,
    canonical_smiles_with_limits, reset_search_stats, search_stats_snapshot,
};
pub use cx::{CxAtomProp, CxSmiles, attachment_point_label_number, parse_cxsmiles, write_cxsmiles};
pub use error::SmilesError;
pub use parser::{SmilesParseLimits, parse, parse_rdkit, parse_template, parse_with_limits};
pub use random_smiles::{random_smiles, random_smiles_vect};
pub use rdkit::{
    InchiOutputAtom, InchiOutputStereo0D, OgbGraphFeatures, RDKIT_TAUTOMER_PICK_MAX_CANDIDATES,
    RdkitAlignment, RdkitAtomEnvironment, RdkitAtomEnvironmentLimits, RdkitChemistryProblem,
    RdkitCleanupEdits, RdkitHashFunction, RdkitLegacyStereo, RdkitMol2Molecule, RdkitMolBlock,
    RdkitMolBlockAtom, RdkitMolBlockBond, RdkitMolView, RdkitPathLimits, RdkitPathParams,
    RdkitPdbMolecule, RdkitSanitizedModel, RdkitSmilesError, RdkitSmilesParams,
    RdkitTautomerEnumeration, RdkitTautomerPick, RdkitTautomerPickError, RdkitTautomerProgress,
    RdkitTautomerStatus, RdkitViewAtom, RdkitViewBond, Transform3D, ogb_graph_features,
    ogb_graph_features_with_options, prepare_rdkit_scalar_model, rdkit_2d_coords,
    rdkit_added_hs_molecule, rdkit_addhs_first_pattern, rdkit_adjacency_matrix, rdkit_align_mol,
    rdkit_align_points, rdkit_all_conformer_best_rms, rdkit_all_conformer_best_rms_to_ref,
    rdkit_atom_environment, rdkit_atom_environment_with_limits, rdkit_atom_stereocenter_counts,
    rdkit_best_rms, rdkit_calc_rms, rdkit_canonical_smiles, rdkit_canonical_tautomer,
    rdkit_chiral_centers, rdkit_cleanup_canonical_smiles, rdkit_cleanup_edits,
    rdkit_crippen_contribs, rdkit_crippen_contribs_no_hs, rdkit_crippen_logp_mr, rdkit_cx_smarts,
    rdkit_cx_smiles, rdkit_detect_chemistry_problems, rdkit_detect_chemistry_problems_sanitized,
    rdkit_distance_matrix, rdkit_distance_matrix_3d, rdkit_distance_matrix_3d_checked,
    rdkit_enumerate_tautomers, rdkit_enumerate_tautomers_with_callback, rdkit_fragment_smiles,
    rdkit_hybridizations, rdkit_hydrogen_suppressed, rdkit_hydrogen_suppressed_with_map,
    rdkit_legacy_stereo, rdkit_model_correct_view, rdkit_mol_block, rdkit_mol_block_2d,
    rdkit_mol_from_mol2_block, rdkit_mol_from_pdb_block, rdkit_mol_from_xyz_block, rdkit_mol_hash,
    rdkit_mol_view, rdkit_molecule_from_inchi_output, rdkit_murcko_scaffold, rdkit_num_atoms,
    rdkit_num_pi_electrons, rdkit_parsed_molecule, rdkit_paths_of_length,
    rdkit_paths_of_length_with_limits, rdkit_pdb_block, rdkit_pick_tautomer, rdkit_random_smiles,
    rdkit_random_smiles_with, rdkit_reaction_to_smarts, rdkit_sanitized_model, rdkit_shortest_path,
    rdkit_smarts, rdkit_smarts_to_smarts, rdkit_smiles, rdkit_stereoisomer_count,
    rdkit_stereoisomer_smiles, rdkit_tautomer_score, register_rdkit_model_hook,
    with_rdkit_model_molecule, with_rdkit_model_scalar, with_rdkit_model_scalar_shortcut,
};
pub use rooted::{ROOTED_SMILES_MAX_ATOMS, RootedSmilesError, write_rooted_checked};
pub use smi_file::{
    SmiFileParseLimits, parse_smi_file, parse_smi_file_with_limits, write_smi_file,
};
pub use writer::{write, write_with_atom_order};
#[cfg(test)]
mod mol2_boundary_contract_tests;

#[cfg(test)]
mod stereo_order_boundary_contract_tests;

#[cfg(test)]
mod pdb_boundary_contract_tests;

#[cfg(test)]
mod inchi_output_boundary_contract_tests;

#[cfg(test)]
mod read_write_boundary_contract_tests;
