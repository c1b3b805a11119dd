//! Molecular dynamics: golden trajectories from ASE (scripts/gen_md_golden.py), convergence
//! order of velocity Verlet, Langevin temperature control, Maxwell–Boltzmann starts, resume
//! and the driver's contract.

use chemlm_atoms::md::{
    angular_momentum, continue_md, drift_per_ps, force_temperature, kinetic_energy,
    maxwell_boltzmann, run_md, stationary, temperature, total_momentum, zero_rotation, Calculator,
    Ensemble, FnObserver, LennardJones, LjCutoff, MdCheckpoint, MdConfig, MdRecord, MdState,
    VelocityInit,
};
use chemlm_atoms::units::{BOLTZMANN, FS};
use chemlm_atoms::{AtomsError, Result, Structure};
use serde_json::Value;

const EPS: f64 = 0.0104;
const SIGMA: f64 = 3.4;

fn golden() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/md/ase_lj13.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn vecs(v: &Value) -> Vec<[f64; 3]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let r = r.as_array().unwrap();
            [
                r[0].as_f64().unwrap(),
                r[1].as_f64().unwrap(),
                r[2].as_f64().unwrap(),
            ]
        })
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn golden_structure(g: &Value) -> Structure {
    let numbers = g["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z.as_u64().unwrap() as u8)
        .collect();
    let mut s = Structure::new(numbers, vecs(&g["positions"])).unwrap();
    s.velocities = Some(vecs(&g["velocities"]));
    s
}

fn golden_lj(case: &Value) -> LennardJones {
    let lj = &case["lj"];
    let mode = if lj["smooth"].as_bool().unwrap() {
        LjCutoff::Smooth {
            onset: lj["ro"].as_f64().unwrap(),
        }
    } else {
        LjCutoff::Shifted
    };
    LennardJones {
        epsilon: lj["epsilon"].as_f64().unwrap(),
        sigma: lj["sigma"].as_f64().unwrap(),
        cutoff: lj["rc"].as_f64().unwrap(),
        mode,
    }
}

fn max_abs_diff(a: &[[f64; 3]], b: &[[f64; 3]]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| (0..3).map(move |k| (x[k] - y[k]).abs()))
        .fold(0.0, f64::max)
}

#[test]
fn units_agree_with_ase() {
    let g = golden();
    assert!((g["fs_in_ase_time"].as_f64().unwrap() - FS).abs() < 1e-15);
    assert!((g["kB"].as_f64().unwrap() - BOLTZMANN).abs() < 1e-18);
}

/// Replays each ASE trajectory with our integrators from the same start and compares every
/// recorded frame: positions, velocities, forces, energies and temperature.
#[test]
fn trajectories_match_ase() {
    let g = golden();
    let start = golden_structure(&g);
    let masses = floats(&g["masses"]);
    for case in g["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut lj = golden_lj(case);
        let ensemble = match case["integrator"].as_str().unwrap() {
            "verlet" => Ensemble::Nve,
            "baoab" => Ensemble::Langevin {
                temperature_k: case["temperature_k"].as_f64().unwrap(),
                friction_per_fs: case["friction_per_fs"].as_f64().unwrap(),
            },
            other => panic!("unknown integrator {other}"),
        };
        let dt = case["dt_fs"].as_f64().unwrap();
        let every = case["record_every"].as_u64().unwrap();
        let etot = floats(&case["etot"]);
        let mut state = MdState::new(&start, masses.clone(), &mut lj, 1).unwrap();
        let mut frames = case["frames"].as_array().unwrap().iter();
        let mut worst = [0.0f64; 4];
        for step in 0..=case["steps"].as_u64().unwrap() {
            if step > 0 {
                state.step(&mut lj, dt, &ensemble).unwrap();
            }
            let e = state.energy + state.kinetic_energy();
            assert!(
                (e - etot[step as usize]).abs() < 1e-11,
                "{name} step {step}: etot {e} vs ASE {}",
                etot[step as usize]
            );
            if step % every == 0 {
                let f = frames.next().unwrap();
                assert_eq!(f["step"].as_u64().unwrap(), step);
                worst[0] = worst[0].max(max_abs_diff(
                    &state.structure.positions,
                    &vecs(&f["positions"]),
                ));
                worst[1] = worst[1].max(max_abs_diff(state.velocities(), &vecs(&f["velocities"])));
                worst[2] = worst[2].max(max_abs_diff(&state.forces, &vecs(&f["forces"])));
                let de = (state.energy - f["epot"].as_f64().unwrap()).abs()
                    + (state.kinetic_energy() - f["ekin"].as_f64().unwrap()).abs();
                worst[3] = worst[3].max(de);
                let t = f["temperature"].as_f64().unwrap();
                assert!(
                    (state.temperature() - t).abs() < 1e-9 * t.max(1.0),
                    "{name}: T"
                );
            }
        }
        assert!(frames.next().is_none());
        println!(
            "{name}: max |dx| {:.1e} A, |dv| {:.1e} A/fs, |dF| {:.1e} eV/A, |dE| {:.1e} eV",
            worst[0], worst[1], worst[2], worst[3]
        );
        // Positions and forces to 1e-9 of their scale (Å, ~0.01 eV/Å); velocities (~1e-3 Å/fs)
        // and energies (~0.3 eV) likewise.
        assert!(worst[0] < 1e-9, "{name}: positions differ by {}", worst[0]);
        assert!(
            worst[1] < 1e-12,
            "{name}: velocities differ by {}",
            worst[1]
        );
        assert!(worst[2] < 1e-11, "{name}: forces differ by {}", worst[2]);
        assert!(worst[3] < 1e-11, "{name}: energies differ by {}", worst[3]);
    }
}

/// The driver with ASE's masses table reproduces the same ASE run through its log records.
#[test]
fn run_md_matches_ase_log() {
    let g = golden();
    let start = golden_structure(&g);
    let masses = floats(&g["masses"]);
    assert_eq!(chemlm_atoms::md::masses_of(&start).unwrap(), masses);
    let case = &g["cases"][0];
    let mut lj = golden_lj(case);
    let config = MdConfig {
        steps: case["steps"].as_u64().unwrap(),
        dt_fs: case["dt_fs"].as_f64().unwrap(),
        ensemble: Ensemble::Nve,
        seed: 0,
        log_every: 1,
        traj_every: case["record_every"].as_u64().unwrap(),
    };
    let mut frames = Vec::new();
    let mut obs = FnObserver {
        on_record: |_: &MdRecord| Ok(()),
        on_frame: |s: &Structure| {
            frames.push(s.clone());
            Ok(())
        },
    };
    let run = run_md(&start, &mut lj, &config, &mut obs).unwrap();
    let etot = floats(&case["etot"]);
    assert_eq!(run.records.len(), etot.len());
    for (r, e) in run.records.iter().zip(&etot) {
        assert!((r.etot - e).abs() < 1e-11);
        assert!((r.time_fs - r.step as f64 * config.dt_fs).abs() < 1e-9);
    }
    let want = case["frames"].as_array().unwrap();
    assert_eq!(frames.len(), want.len());
    for (s, f) in frames.iter().zip(want) {
        assert!(max_abs_diff(&s.positions, &vecs(&f["positions"])) < 1e-9);
        assert!(max_abs_diff(s.forces.as_ref().unwrap(), &vecs(&f["forces"])) < 1e-11);
        assert!(max_abs_diff(s.velocities.as_ref().unwrap(), &vecs(&f["velocities"])) < 1e-12);
        assert!((s.energy.unwrap() - f["epot"].as_f64().unwrap()).abs() < 1e-11);
    }
}

#[test]
fn stationary_and_zero_rotation_match_ase() {
    let g = golden();
    let s = golden_structure(&g);
    let masses = floats(&g["masses"]);
    let z = &g["zero_momentum"];
    let mut v = s.velocities.clone().unwrap();
    let t0 = temperature(kinetic_energy(&masses, &v), v.len());
    assert!((t0 - z["temperature_before"].as_f64().unwrap()).abs() < 1e-9);
    stationary(&masses, &mut v, true);
    assert!(max_abs_diff(&v, &vecs(&z["after_stationary"])) < 1e-14);
    zero_rotation(&masses, &s.positions, &mut v, true);
    assert!(max_abs_diff(&v, &vecs(&z["after_zero_rotation"])) < 1e-14);
    let l = angular_momentum(&masses, &s.positions, &v);
    assert!(l.iter().all(|x| x.abs() < 1e-12), "{l:?}");
    let t = temperature(kinetic_energy(&masses, &v), v.len());
    assert!((t - z["temperature_after"].as_f64().unwrap()).abs() < 1e-9);
}

// ---------------------------------------------------------------------------------------------
// Energy conservation and convergence order

/// A 13-atom argon cluster from the golden start (all atoms argon here).
fn argon13() -> (Structure, Vec<f64>) {
    let g = golden();
    let mut s = golden_structure(&g);
    s.numbers = vec![18; s.len()];
    let masses = vec![39.948; s.len()];
    (s, masses)
}

/// Largest |E(t) − E(0)| over `total_fs` of dynamics advanced by `step`.
fn energy_error(dt: f64, total_fs: f64, mut step: impl FnMut(&mut MdState, f64)) -> f64 {
    let (s, masses) = argon13();
    let mut lj = LennardJones::new(EPS, SIGMA);
    let mut state = MdState::new(&s, masses, &mut lj, 0).unwrap();
    let e0 = state.energy + state.kinetic_energy();
    let n = (total_fs / dt).round() as usize;
    let mut worst: f64 = 0.0;
    for _ in 0..n {
        step(&mut state, dt);
        worst = worst.max((state.energy + state.kinetic_energy() - e0).abs());
    }
    worst
}

/// Whether successive halvings of dt divide the error by about 4.
fn looks_second_order(errors: &[f64]) -> bool {
    errors.windows(2).all(|w| {
        let ratio = w[0] / w[1];
        (3.2..5.0).contains(&ratio)
    })
}

#[test]
fn velocity_verlet_energy_error_is_second_order() {
    let dts = [8.0, 4.0, 2.0];
    let total = 1000.0;
    let vv: Vec<f64> = dts
        .iter()
        .map(|&dt| {
            energy_error(dt, total, |s, dt| {
                let mut lj = LennardJones::new(EPS, SIGMA);
                s.step(&mut lj, dt, &Ensemble::Nve).unwrap()
            })
        })
        .collect();
    // A deliberately wrong half step: a full kick before the drift and none after (symplectic
    // Euler), still bounded in energy but only first order.
    let wrong: Vec<f64> = dts
        .iter()
        .map(|&dt| {
            energy_error(dt, total, |s, dt| {
                let mut lj = LennardJones::new(EPS, SIGMA);
                let v = s.structure.velocities.as_mut().unwrap();
                for ((v, f), m) in v.iter_mut().zip(&s.forces).zip(&s.masses) {
                    for k in 0..3 {
                        v[k] += dt * f[k] / m * FS * FS;
                    }
                }
                for (x, v) in s.structure.positions.iter_mut().zip(v.iter()) {
                    for k in 0..3 {
                        x[k] += dt * v[k];
                    }
                }
                let (e, f) = lj.compute(&s.structure).unwrap();
                s.energy = e;
                s.forces = f;
            })
        })
        .collect();
    println!("velocity Verlet max |dE|: {vv:?}\nsymplectic Euler max |dE|: {wrong:?}");
    assert!(looks_second_order(&vv), "velocity Verlet errors {vv:?}");
    assert!(
        !looks_second_order(&wrong),
        "first-order scheme passed: {wrong:?}"
    );
    // At 2 fs the energy error is tiny next to the kinetic energy (~0.07 eV).
    assert!(vv[2] < 1e-5, "{vv:?}");
}

/// fcc fragment (32 atoms, 2×2×2 conventional cells, no periodicity) with the smooth cutoff:
/// 20 ps of NVE at 5 fs show no measurable drift.
#[test]
fn nve_long_run_has_no_drift() {
    let a = 2f64.powf(1.0 / 6.0) * SIGMA * 2f64.sqrt();
    let basis = [
        [0.0, 0.0, 0.0],
        [0.5, 0.5, 0.0],
        [0.5, 0.0, 0.5],
        [0.0, 0.5, 0.5],
    ];
    let mut positions = Vec::new();
    for i in 0..2 {
        for j in 0..2 {
            for k in 0..2 {
                for b in basis {
                    positions.push([
                        a * (i as f64 + b[0]),
                        a * (j as f64 + b[1]),
                        a * (k as f64 + b[2]),
                    ]);
                }
            }
        }
    }
    let mut s = Structure::new(vec![18; positions.len()], positions).unwrap();
    let masses = chemlm_atoms::md::masses_of(&s).unwrap();
    s.velocities =
        Some(maxwell_boltzmann(&masses, &s.positions, &VelocityInit::molecule(20.0), 11).unwrap());
    let mut lj = LennardJones::smooth(EPS, SIGMA, 2.5 * SIGMA);
    let config = MdConfig {
        steps: 4000,
        dt_fs: 5.0,
        ensemble: Ensemble::Nve,
        seed: 0,
        log_every: 10,
        traj_every: 0,
    };
    let run = run_md(&s, &mut lj, &config, &mut ()).unwrap();
    let drift = drift_per_ps(&run.records, s.len()).unwrap();
    let mean_ekin = run.records.iter().map(|r| r.ekin).sum::<f64>() / run.records.len() as f64;
    println!("{drift:?}, mean Ekin {mean_ekin:.4} eV");
    assert!((drift.duration_ps - 20.0).abs() < 1e-9);
    assert!(drift.ev_per_ps_per_atom.abs() < 1e-7, "{drift:?}");
    // Fluctuation of the total energy: 0.2 % of the kinetic energy at most (measured 1.2e-5 eV
    // against 0.058 eV); a first-order scheme is an order of magnitude above.
    assert!(drift.max_deviation_ev < 2e-3 * mean_ekin, "{drift:?}");
    // The momentum removed at the start stays removed (forces sum to zero).
    let p = total_momentum(&run.state.masses, run.state.velocities());
    assert!(p.iter().all(|x| x.abs() < 1e-10), "{p:?}");
}

// ---------------------------------------------------------------------------------------------
// Langevin

#[test]
fn langevin_holds_the_target_temperature() {
    let g = golden();
    let mut s = golden_structure(&g); // Ar and Ne: checks the mass dependence of the noise
    s.velocities = None; // start at rest
    let masses = floats(&g["masses"]);
    for target in [15.0, 30.0] {
        let mut lj = LennardJones::smooth(EPS, SIGMA, 8.0);
        let mut state = MdState::new(&s, masses.clone(), &mut lj, 2024).unwrap();
        let ensemble = Ensemble::Langevin {
            temperature_k: target,
            friction_per_fs: 0.01,
        };
        // 2 ps (20 friction times 1/γ) to equilibrate from rest, then 100 ps of averaging.
        for _ in 0..400 {
            state.step(&mut lj, 5.0, &ensemble).unwrap();
        }
        let (mut t_sum, mut n) = (0.0, 0);
        let mut mv2 = [0.0f64; 2]; // Σ m v² of Ar, Ne atoms, in eV
        let mut counts = [0usize; 2];
        for _ in 0..20_000 {
            state.step(&mut lj, 5.0, &ensemble).unwrap();
            t_sum += state.temperature();
            n += 1;
            for ((z, m), v) in state
                .structure
                .numbers
                .iter()
                .zip(&masses)
                .zip(state.velocities())
            {
                let idx = usize::from(*z == 10);
                mv2[idx] += m * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) / (FS * FS) / 3.0;
                counts[idx] += 1;
            }
        }
        let mean_t = t_sum / n as f64;
        let kt = BOLTZMANN * target;
        let ar = mv2[0] / counts[0] as f64 / kt;
        let ne = mv2[1] / counts[1] as f64 / kt;
        println!("target {target} K: mean T {mean_t:.3} K, <mv²>/kT Ar {ar:.4} Ne {ne:.4}");
        // 100 ps with a 100 fs correlation time: ~1000 independent samples of a temperature
        // whose relative spread is sqrt(2/39) = 0.23, so the standard error is ~0.7 %.
        assert!(
            (mean_t / target - 1.0).abs() < 0.03,
            "mean T {mean_t} for {target}"
        );
        assert!(
            (ar - 1.0).abs() < 0.05 && (ne - 1.0).abs() < 0.08,
            "equipartition Ar {ar} Ne {ne}"
        );
    }
}

/// A trajectory stopped, saved to JSON and restored continues bit for bit.
#[test]
fn resume_from_checkpoint_is_exact() {
    let (s, masses) = argon13();
    let ensemble = Ensemble::Langevin {
        temperature_k: 25.0,
        friction_per_fs: 0.02,
    };
    let mut lj = LennardJones::new(EPS, SIGMA);
    let config = |steps| MdConfig {
        steps,
        dt_fs: 4.0,
        ensemble,
        seed: 99,
        log_every: 5,
        traj_every: 0,
    };
    let mut straight = MdState::new(&s, masses.clone(), &mut lj, 99).unwrap();
    let all = continue_md(&mut straight, &mut lj, &config(41), &mut ()).unwrap();

    let mut first = MdState::new(&s, masses.clone(), &mut lj, 99).unwrap();
    let head = continue_md(&mut first, &mut lj, &config(17), &mut ()).unwrap();
    let json = serde_json::to_string(&first.checkpoint()).unwrap();
    let ck: MdCheckpoint = serde_json::from_str(&json).unwrap();
    let mut resumed = MdState::restore(&s, masses.clone(), &ck, &mut lj).unwrap();
    let tail = continue_md(&mut resumed, &mut lj, &config(24), &mut ()).unwrap();

    assert_eq!(resumed.step, 41);
    assert_eq!(resumed.structure.positions, straight.structure.positions);
    assert_eq!(resumed.velocities(), straight.velocities());
    let joined: Vec<MdRecord> = head.into_iter().chain(tail).collect();
    assert_eq!(joined, all);
    // Another seed gives another trajectory.
    let mut other = MdState::new(&s, masses, &mut lj, 100).unwrap();
    continue_md(&mut other, &mut lj, &config(41), &mut ()).unwrap();
    assert_ne!(other.structure.positions, straight.structure.positions);
}

// ---------------------------------------------------------------------------------------------
// Maxwell–Boltzmann

#[test]
fn maxwell_boltzmann_sample() {
    let n = 20_000;
    let masses: Vec<f64> = (0..n)
        .map(|i| if i % 3 == 0 { 1.008 } else { 12.011 })
        .collect();
    let positions: Vec<[f64; 3]> = (0..n)
        .map(|i| {
            let x = i as f64;
            [
                (x * 0.37).sin() * 20.0,
                (x * 0.11).cos() * 20.0,
                (x * 0.07).sin() * 15.0,
            ]
        })
        .collect();
    let target = 300.0;
    let plain = VelocityInit {
        temperature_k: target,
        stationary: false,
        zero_rotation: false,
        exact_temperature: false,
    };
    let v = maxwell_boltzmann(&masses, &positions, &plain, 5).unwrap();
    let t = temperature(kinetic_energy(&masses, &v), n);
    // Relative spread of T over 3N dof: sqrt(2/(3N)) = 0.6 %.
    assert!((t / target - 1.0).abs() < 0.02, "T {t}");
    // Per species <m v_x²> = kT: hydrogen velocities are sqrt(12) times faster.
    for species in [1.008, 12.011] {
        let (sum, count) = masses
            .iter()
            .zip(&v)
            .filter(|(m, _)| **m == species)
            .fold((0.0, 0), |(s, c), (m, v)| {
                (s + m * v[0] * v[0] / (FS * FS), c + 1)
            });
        let ratio = sum / count as f64 / (BOLTZMANN * target);
        assert!(
            (ratio - 1.0).abs() < 0.04,
            "mass {species}: <m vx²>/kT = {ratio}"
        );
    }
    assert_eq!(
        v,
        maxwell_boltzmann(&masses, &positions, &plain, 5).unwrap()
    );
    assert_ne!(
        v,
        maxwell_boltzmann(&masses, &positions, &plain, 6).unwrap()
    );

    let full = VelocityInit {
        exact_temperature: true,
        ..VelocityInit::molecule(target)
    };
    let v = maxwell_boltzmann(&masses, &positions, &full, 5).unwrap();
    let t = temperature(kinetic_energy(&masses, &v), n);
    assert!((t - target).abs() < 1e-9, "exact temperature {t}");
    let p = total_momentum(&masses, &v);
    assert!(p.iter().all(|x| x.abs() < 1e-9), "momentum {p:?}");
    let l = angular_momentum(&masses, &positions, &v);
    assert!(l.iter().all(|x| x.abs() < 1e-7), "angular momentum {l:?}");

    let zero = maxwell_boltzmann(&masses, &positions, &VelocityInit::molecule(0.0), 5).unwrap();
    assert!(zero.iter().flatten().all(|x| *x == 0.0));
    assert!(maxwell_boltzmann(&masses, &positions, &VelocityInit::molecule(-1.0), 5).is_err());
}

#[test]
fn force_temperature_and_stationary_edge_cases() {
    let masses = [39.948];
    let mut v = vec![[0.001, 0.0, 0.0]];
    stationary(&masses, &mut v, true); // a single atom has no momentum-free motion
    assert_eq!(v, vec![[0.0; 3]]);
    force_temperature(&masses, &mut v, 300.0); // nothing to scale: stays at rest, no NaN
    assert_eq!(v, vec![[0.0; 3]]);
    // Linear molecule: rotation about its axis is undefined and left alone.
    let masses = [12.0, 16.0, 16.0];
    let pos = [[0.0, 0.0, 0.0], [0.0, 0.0, 1.16], [0.0, 0.0, -1.16]];
    let mut v = vec![[0.001, 0.0, 0.0], [0.0, 0.002, 0.0], [0.0, -0.001, 0.0003]];
    zero_rotation(&masses, &pos, &mut v, false);
    assert!(v.iter().flatten().all(|x| x.is_finite()));
    let l = angular_momentum(&masses, &pos, &v);
    assert!(l.iter().all(|x| x.abs() < 1e-14), "{l:?}");
}

// ---------------------------------------------------------------------------------------------
// Driver contract

/// Counts calls and can fail on a given call.
struct Counting {
    inner: LennardJones,
    calls: usize,
    nan_at: Option<usize>,
}

impl Calculator for Counting {
    fn compute(&mut self, s: &Structure) -> Result<(f64, Vec<[f64; 3]>)> {
        self.calls += 1;
        let (e, mut f) = self.inner.compute(s)?;
        if Some(self.calls) == self.nan_at {
            f[0][1] = f64::NAN;
        }
        Ok((e, f))
    }
}

#[test]
fn driver_calls_once_per_step_and_emits_on_schedule() {
    let (mut s, _) = argon13();
    s.velocities = None;
    let mut calc = Counting {
        inner: LennardJones::new(EPS, SIGMA),
        calls: 0,
        nan_at: None,
    };
    let config = MdConfig {
        steps: 23,
        dt_fs: 2.0,
        ensemble: Ensemble::Langevin {
            temperature_k: 10.0,
            friction_per_fs: 0.05,
        },
        seed: 3,
        log_every: 5,
        traj_every: 10,
    };
    let (mut logged, mut framed) = (Vec::new(), Vec::new());
    let mut obs = FnObserver {
        on_record: |r: &MdRecord| {
            logged.push(r.step);
            Ok(())
        },
        on_frame: |f: &Structure| {
            framed.push(f.info["step"].clone());
            assert!(f.energy.is_some() && f.forces.is_some() && f.velocities.is_some());
            Ok(())
        },
    };
    let run = run_md(&s, &mut calc, &config, &mut obs).unwrap();
    assert_eq!(calc.calls, 24);
    assert_eq!(logged, vec![0, 5, 10, 15, 20]);
    assert_eq!(framed.len(), 3);
    assert_eq!(run.records.len(), 5);
    assert_eq!(run.state.step, 23);
    assert!((run.state.time_fs - 46.0).abs() < 1e-12);
    for r in &run.records {
        assert!((r.etot - r.epot - r.ekin).abs() < 1e-15);
    }

    // An observer error stops the run and comes back.
    let mut stop = FnObserver {
        on_record: |r: &MdRecord| {
            if r.step >= 10 {
                Err(AtomsError::Invalid("disk full".into()))
            } else {
                Ok(())
            }
        },
        on_frame: |_: &Structure| Ok(()),
    };
    let err = run_md(&s, &mut calc, &config, &mut stop).unwrap_err();
    assert!(err.to_string().contains("disk full"));

    // Non-finite forces are reported with their step.
    let mut bad = Counting {
        inner: LennardJones::new(EPS, SIGMA),
        calls: 0,
        nan_at: Some(8),
    };
    let err = run_md(&s, &mut bad, &config, &mut ())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("step 7") && err.contains("non-finite"),
        "{err}"
    );

    // Bad settings are refused.
    let mut lj = LennardJones::new(EPS, SIGMA);
    for bad in [
        MdConfig {
            dt_fs: 0.0,
            ..config
        },
        MdConfig {
            ensemble: Ensemble::Langevin {
                temperature_k: -5.0,
                friction_per_fs: 0.01,
            },
            ..config
        },
    ] {
        assert!(run_md(&s, &mut lj, &bad, &mut ()).is_err());
    }
}
