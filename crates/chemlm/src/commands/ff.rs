//! `chemlm ff …`: neural force fields (SchNet, PaiNN): create, train, evaluate, predict, run
//! molecular dynamics, and time force calls against system size. Parsing and printing only; the
//! work is in `chemlm-ff` and `chemlm-atoms`.

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device};
use chemlm_atoms::io::{read_structures, write_extxyz, ReadOptions};
use chemlm_atoms::md::{Ensemble, MdConfig};
use chemlm_atoms::units::{EnergyUnit, LengthUnit};
use chemlm_atoms::Structure;
use chemlm_ff::models::{self, Arch};
use chemlm_ff::train::{
    latest_checkpoint, load_frames, parse_split, split_indices, FfDataset, FfTrainConfig,
    SplitIndices, TrainEvent, TrainOptions,
};
use chemlm_ff::Potential;
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum FfCommand {
    /// Create an untrained model directory (config.json + model.safetensors) from a preset with
    /// the papers' default sizes; flags override the preset.
    Init(InitArgs),
    /// Train on energies and forces (the LitMatter/NFF recipe by default): per-element energy
    /// reference, Adam + ReduceLROnPlateau, early stopping, optional EMA, atomic checkpoints,
    /// exact resume, metrics.jsonl, loss.png, best/.
    Train(Box<TrainArgs>),
    /// Energy and force errors of a model on labelled structures (MAE/RMSE, per element).
    Eval(EvalArgs),
    /// Energies and forces of every frame, written as extended XYZ (energy= and forces).
    Predict(PredictArgs),
    /// Molecular dynamics with a trained model: velocity Verlet (NVE) or Langevin (BAOAB).
    Md(MdArgs),
    /// Time one energy+force call as a molecule is replicated into ever larger periodic boxes.
    Bench(BenchArgs),
}

pub fn run(c: &FfCommand, quiet: bool) -> Result<()> {
    match c {
        FfCommand::Init(a) => init(a),
        FfCommand::Train(a) => train(a, quiet),
        FfCommand::Eval(a) => eval(a, quiet),
        FfCommand::Predict(a) => predict(a, quiet),
        FfCommand::Md(a) => md(a, quiet),
        FfCommand::Bench(a) => bench(a, quiet),
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ArchArg {
    Schnet,
    Painn,
    Allegro,
    Spookynet,
}

impl From<ArchArg> for Arch {
    fn from(a: ArchArg) -> Arch {
        match a {
            ArchArg::Schnet => Arch::Schnet,
            ArchArg::Painn => Arch::Painn,
            ArchArg::Allegro => Arch::Allegro,
            ArchArg::Spookynet => Arch::Spookynet,
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DtypeArg {
    F32,
    F64,
}

impl DtypeArg {
    fn dtype(self) -> DType {
        match self {
            DtypeArg::F32 => DType::F32,
            DtypeArg::F64 => DType::F64,
        }
    }
}

/// Architecture and sizes of a new model.
#[derive(Args, Clone)]
pub struct ModelArgs {
    /// Architecture.
    #[arg(long, value_enum)]
    pub arch: Option<ArchArg>,
    /// TOML model config replacing the preset (`configs/ff-<arch>.toml`).
    #[arg(long)]
    pub model_config: Option<PathBuf>,
    /// Feature width (Allegro: scalar features and MLP hidden widths; SpookyNet: num_features).
    #[arg(long)]
    pub n_atom_basis: Option<usize>,
    /// Interaction blocks (Allegro: layers; SpookyNet: num_modules).
    #[arg(long)]
    pub n_interactions: Option<usize>,
    /// Radial basis functions (Allegro: Bessel functions; SpookyNet: num_basis_functions).
    #[arg(long)]
    pub n_rbf: Option<usize>,
    /// Cutoff radius, Å.
    #[arg(long)]
    pub cutoff: Option<f64>,
    /// Filter width (SchNet only).
    #[arg(long)]
    pub n_filters: Option<usize>,
    /// Seed of the initial weights.
    #[arg(long, default_value_t = 0)]
    pub init_seed: u64,
}

impl ModelArgs {
    /// The architecture's preset (or `--model-config`) with the size flags applied.
    fn config_toml(&self) -> Result<(Arch, String, String)> {
        let arch: Arch = self
            .arch
            .context("--arch is required to create a model")?
            .into();
        let (text, origin) = match &self.model_config {
            Some(p) => (
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
                p.display().to_string(),
            ),
            None => (
                arch.preset_toml().to_string(),
                format!("preset ff-{}", arch.name()),
            ),
        };
        let mut table: toml::Table =
            toml::from_str(&text).with_context(|| format!("parsing {origin}"))?;
        arch.apply_sizes(
            &mut table,
            &models::registry::SizeOverrides {
                width: self.n_atom_basis,
                depth: self.n_interactions,
                basis: self.n_rbf,
                cutoff: self.cutoff,
            },
        );
        if let Some(f) = self.n_filters {
            if arch != Arch::Schnet {
                bail!("--n-filters applies to SchNet only");
            }
            table.insert("n_filters".into(), (f as i64).into());
        } else if arch == Arch::Schnet && self.n_atom_basis.is_some() {
            // SchNet's filter width follows the feature width unless given (schnetpack).
            table.insert(
                "n_filters".into(),
                table
                    .get("n_atom_basis")
                    .cloned()
                    .unwrap_or(toml::Value::Integer(128)),
            );
        }
        Ok((arch, toml::to_string(&table)?, origin))
    }

    fn build(&self, dtype: DType, device: &Device) -> Result<Box<dyn Potential>> {
        self.build_for(dtype, device, &[])
    }

    /// As [`Self::build`]; a preset (no `--model-config`) first takes the settings nequip
    /// derives from the training data (Allegro: elements, mean neighbour count).
    fn build_for(
        &self,
        dtype: DType,
        device: &Device,
        structures: &[chemlm_atoms::Structure],
    ) -> Result<Box<dyn Potential>> {
        let (arch, mut text, origin) = self.config_toml()?;
        if self.model_config.is_none() && !structures.is_empty() {
            let mut table: toml::Table = toml::from_str(&text)?;
            arch.fill_from_data(&mut table, structures)?;
            text = toml::to_string(&table)?;
        }
        Ok(models::build(
            arch,
            &text,
            &origin,
            dtype,
            device,
            self.init_seed,
        )?)
    }
}

#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output model directory.
    #[arg(long)]
    pub out: PathBuf,
}

fn init(a: &InitArgs) -> Result<()> {
    let m = a.model.build(DType::F32, &crate::runtime::device()?)?;
    m.save(&a.out)?;
    println!(
        "{}: {} with {} parameters, cutoff {} Å",
        a.out.display(),
        m.model_type(),
        models::n_params(m.as_ref()),
        m.cutoff()
    );
    Ok(())
}

/// How structure files are read.
#[derive(Args, Clone)]
pub struct ReadArgs {
    /// Energy unit of the files, overriding the format's default (extended XYZ: eV or its
    /// `energy_unit=` key; MD17/sGDML .npz: kcal/mol; QM9: Hartree).
    #[arg(long)]
    pub energy_unit: Option<String>,
    /// Length unit of the files (default Å).
    #[arg(long)]
    pub length_unit: Option<String>,
    /// Comment-line key of the energy (extended XYZ) or array/column name.
    #[arg(long)]
    pub energy_key: Option<String>,
    /// Per-atom property of the forces (extended XYZ) or array name.
    #[arg(long)]
    pub forces_key: Option<String>,
    /// Read at most this many frames per file.
    #[arg(long)]
    pub limit: Option<usize>,
}

impl ReadArgs {
    fn options(&self) -> Result<ReadOptions> {
        let mut o = ReadOptions::default();
        if let Some(u) = &self.energy_unit {
            o.energy_unit = Some(EnergyUnit::parse(u).with_context(|| {
                format!("unknown energy unit `{u}` (eV, meV, kcal/mol, kJ/mol, Ha)")
            })?);
        }
        if let Some(u) = &self.length_unit {
            o.length_unit = Some(
                LengthUnit::parse(u)
                    .with_context(|| format!("unknown length unit `{u}` (A, Bohr)"))?,
            );
        }
        o.energy_key = self.energy_key.clone();
        o.forces_key = self.forces_key.clone();
        o.limit = self.limit;
        Ok(o)
    }
}

fn read_all(paths: &[PathBuf], r: &ReadArgs) -> Result<Vec<Structure>> {
    let loaded = load_frames(paths, &r.options()?)?;
    report_bad(&loaded.bad);
    Ok(loaded.structures)
}

fn report_bad(bad: &[String]) {
    for b in bad.iter().take(20) {
        eprintln!("warning: skipped {b}");
    }
    if !bad.is_empty() {
        eprintln!("warning: {} bad frame(s) skipped in total", bad.len());
    }
}

#[derive(Args)]
pub struct TrainArgs {
    /// Start from this model directory (e.g. from `chemlm ff init`) instead of --arch.
    #[arg(long)]
    pub init: Option<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Labelled structure files (extended XYZ, MD17 .npz, QM9 csv.gz), concatenated in order.
    #[arg(long, required = true, num_args = 1..)]
    pub data: Vec<PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Training recipe (TOML); default the LitMatter/NFF recipe (configs/ff-train-nff.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Split sizes `train,valid` (the rest is the test set) or `train,valid,test`.
    #[arg(long)]
    pub split: Option<String>,
    /// Weight of the energy MSE.
    #[arg(long)]
    pub energy_weight: Option<f64>,
    /// Weight of the force MSE.
    #[arg(long)]
    pub force_weight: Option<f64>,
    /// Adam learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Structures per batch.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Maximum epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Early-stopping patience in epochs.
    #[arg(long)]
    pub patience: Option<usize>,
    /// ReduceLROnPlateau patience in epochs.
    #[arg(long)]
    pub plateau_patience: Option<usize>,
    /// Exponential moving average of the weights (e.g. 0.99).
    #[arg(long)]
    pub ema: Option<f64>,
    /// Seed of the split and of the shuffling.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Training precision.
    #[arg(long, value_enum)]
    pub dtype: Option<DtypeArg>,
    /// Run directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Continue the run in --out from its newest checkpoint (bit-exact).
    #[arg(long)]
    pub resume: bool,
    /// Checkpoints kept.
    #[arg(long, default_value_t = 2)]
    pub keep_checkpoints: usize,
}

fn train_config(a: &TrainArgs) -> Result<FfTrainConfig> {
    let mut c = match &a.config {
        Some(p) => FfTrainConfig::from_toml_file(p)?,
        None => FfTrainConfig::nff_preset()?,
    };
    if let Some(s) = &a.split {
        c.split = parse_split(s)?;
    }
    if let Some(v) = a.energy_weight {
        c.energy_weight = v;
    }
    if let Some(v) = a.force_weight {
        c.force_weight = v;
    }
    if let Some(v) = a.lr {
        c.lr = v;
    }
    if let Some(v) = a.batch_size {
        c.batch_size = v;
    }
    if let Some(v) = a.epochs {
        c.max_epochs = v;
    }
    if let Some(v) = a.patience {
        c.early_stop_patience = Some(v);
    }
    if let Some(v) = a.plateau_patience {
        c.plateau_patience = v;
    }
    if a.ema.is_some() {
        c.ema_decay = a.ema;
    }
    if let Some(v) = a.seed {
        c.seed = v;
    }
    if let Some(d) = a.dtype {
        c.dtype = match d {
            DtypeArg::F32 => chemlm_ff::train::TrainDtype::F32,
            DtypeArg::F64 => chemlm_ff::train::TrainDtype::F64,
        };
    }
    c.validate("training config")?;
    Ok(c)
}

fn bar(quiet: bool, len: u64, msg: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} [{elapsed_precise}, ETA {eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b.set_message(msg.to_string());
    b
}

fn train(a: &TrainArgs, quiet: bool) -> Result<()> {
    let cfg = train_config(a)?;
    let device = crate::runtime::device()?;
    let dtype = cfg.dtype.dtype();
    let loaded: Option<Box<dyn Potential>> = match (a.resume, latest_checkpoint(&a.out)?) {
        (true, Some(dir)) => Some(models::load(&dir, dtype, &device)?),
        (true, None) => bail!("--resume: no checkpoint in {}", a.out.display()),
        (false, Some(_)) => bail!(
            "{} already holds checkpoints: pass --resume to continue that run, or choose another --out",
            a.out.display()
        ),
        (false, None) => match &a.init {
            Some(dir) => Some(models::load(dir, dtype, &device)?),
            None => None,
        },
    };
    let frames = read_all(&a.data, &a.read)?;
    let mut model = match loaded {
        Some(m) => m,
        None => a.model.build_for(dtype, &device, &frames)?,
    };
    let n = frames.len();
    let data = FfDataset::new(frames, model.cutoff())?;
    let split_path = a.out.join(chemlm_ff::train::data::SPLIT_FILE);
    let split: SplitIndices = if a.resume && split_path.exists() {
        SplitIndices::load(&split_path)?
    } else {
        split_indices(n, &cfg.split, cfg.seed)?
    };
    eprintln!(
        "{} frames: {} train, {} valid, {} test; {} with {} parameters",
        n,
        split.train.len(),
        split.valid.len(),
        split.test.len(),
        model.model_type(),
        models::n_params(model.as_ref())
    );
    let mut opts = TrainOptions::new(&a.out);
    opts.resume = a.resume;
    opts.quiet = quiet;
    opts.device = device;
    opts.keep_checkpoints = a.keep_checkpoints;
    let pb = std::sync::Mutex::new(None::<ProgressBar>);
    let report = chemlm_ff::train::train_potential(
        model.as_mut(),
        &data,
        &split,
        &cfg,
        &opts,
        &mut |ev: &TrainEvent| {
            let Ok(mut slot) = pb.lock() else { return };
            match ev {
                TrainEvent::Started {
                    first_epoch,
                    max_epochs,
                    batches_per_epoch,
                    ..
                } => {
                    let b = bar(
                        quiet,
                        ((max_epochs + 1).saturating_sub(*first_epoch) * batches_per_epoch) as u64,
                        "training",
                    );
                    *slot = Some(b);
                }
                TrainEvent::Batch { .. } => {
                    if let Some(b) = slot.as_ref() {
                        b.inc(1);
                    }
                }
                TrainEvent::Epoch(r) => {
                    let line = format!(
                        "epoch {:>4}  lr {:.2e}  train {:.5}  valid {:.5}  E MAE {:.2} meV  F MAE {:.2} meV/Å{}  {:.1} s",
                        r.epoch,
                        r.lr,
                        r.train_loss,
                        r.valid_loss,
                        r.valid_energy_mae_mev,
                        r.valid_force_mae_mev_a,
                        if r.best { " *" } else { "" },
                        r.epoch_time_s
                    );
                    match slot.as_ref() {
                        Some(b) if !quiet => b.println(line),
                        _ => eprintln!("{line}"),
                    }
                }
            }
        },
    )?;
    if let Ok(mut slot) = pb.lock() {
        if let Some(b) = slot.take() {
            b.finish_and_clear();
        }
    }
    println!(
        "stopped after epoch {} ({:?}); best epoch {} → {}",
        report.last_epoch,
        report.stop,
        report.best_epoch,
        report.best_dir.display()
    );
    if !split.test.is_empty() {
        let best = models::load(&report.best_dir, dtype, &crate::runtime::device()?)?;
        let test: Vec<Structure> = split
            .test
            .iter()
            .map(|&i| data.structure(i).clone())
            .collect();
        let m = chemlm_ff::train::evaluate(
            best.as_ref(),
            &test,
            cfg.batch_size,
            dtype,
            &crate::runtime::device()?,
        )?;
        let path = a.out.join("test_metrics.json");
        std::fs::write(&path, serde_json::to_string_pretty(&m)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!(
            "test set ({} frames), best model:\n{}",
            test.len(),
            m.to_markdown()
        );
    }
    Ok(())
}

#[derive(Args)]
pub struct EvalArgs {
    /// Model directory.
    #[arg(long)]
    pub model: PathBuf,
    /// Labelled structure files.
    #[arg(long, required = true, num_args = 1..)]
    pub data: Vec<PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
    /// A run's split.json: evaluate only the frames of --part.
    #[arg(long)]
    pub split_file: Option<PathBuf>,
    /// Which part of --split-file.
    #[arg(long, default_value = "test")]
    pub part: String,
    /// Structures per batch.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Precision.
    #[arg(long, value_enum, default_value = "f32")]
    pub dtype: DtypeArg,
    /// Also write the metrics as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

fn select_part(frames: Vec<Structure>, split_file: &Path, part: &str) -> Result<Vec<Structure>> {
    let split = SplitIndices::load(split_file)?;
    split.check(frames.len())?;
    let idx = match part {
        "train" => &split.train,
        "valid" => &split.valid,
        "test" => &split.test,
        other => bail!("--part must be train, valid or test, not `{other}`"),
    };
    Ok(idx.iter().map(|&i| frames[i].clone()).collect())
}

fn eval(a: &EvalArgs, _quiet: bool) -> Result<()> {
    let model = models::load(&a.model, a.dtype.dtype(), &crate::runtime::device()?)?;
    let mut frames = read_all(&a.data, &a.read)?;
    if let Some(sf) = &a.split_file {
        frames = select_part(frames, sf, &a.part)?;
    }
    let m = chemlm_ff::train::evaluate(
        model.as_ref(),
        &frames,
        a.batch_size,
        a.dtype.dtype(),
        &crate::runtime::device()?,
    )?;
    println!("{}", m.to_markdown());
    if let Some(p) = &a.json {
        chemlm_models::io::write_atomic(p, serde_json::to_string_pretty(&m)?.as_bytes())?;
    }
    Ok(())
}

#[derive(Args)]
pub struct PredictArgs {
    /// Model directory.
    #[arg(long)]
    pub model: PathBuf,
    /// Input structures (any readable format).
    #[arg(short, long)]
    pub input: PathBuf,
    /// Output extended XYZ (energy= in the comment line, forces per atom; `.gz` compresses).
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Structures per batch.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Precision.
    #[arg(long, value_enum, default_value = "f32")]
    pub dtype: DtypeArg,
}

fn predict(a: &PredictArgs, _quiet: bool) -> Result<()> {
    let model = models::load(&a.model, a.dtype.dtype(), &crate::runtime::device()?)?;
    let report = read_structures(&a.input, &a.read.options()?)?;
    let bad: Vec<String> = report.bad.iter().map(|e| e.to_string()).collect();
    report_bad(&bad);
    let mut frames = report.structures;
    chemlm_ff::train::predict(
        model.as_ref(),
        &mut frames,
        a.batch_size,
        a.dtype.dtype(),
        &crate::runtime::device()?,
    )?;
    write_extxyz(&a.output, &frames)?;
    eprintln!(
        "{} frames → {} ({} bad skipped)",
        frames.len(),
        a.output.display(),
        bad.len()
    );
    Ok(())
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum EnsembleArg {
    Nve,
    Langevin,
}

#[derive(Args)]
pub struct MdArgs {
    /// Model directory.
    #[arg(long)]
    pub model: PathBuf,
    /// Starting structure (first frame unless --frame).
    #[arg(short, long)]
    pub input: PathBuf,
    /// Frame of --input to start from.
    #[arg(long, default_value_t = 0)]
    pub frame: usize,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Steps.
    #[arg(long)]
    pub steps: u64,
    /// Time step, fs.
    #[arg(long, default_value_t = 0.5)]
    pub dt: f64,
    /// Ensemble.
    #[arg(long, value_enum, default_value = "nve")]
    pub ensemble: EnsembleArg,
    /// Temperature, K: the Langevin bath and the Maxwell–Boltzmann start.
    #[arg(long, default_value_t = 300.0)]
    pub temperature: f64,
    /// Langevin friction, 1/fs.
    #[arg(long, default_value_t = 0.01)]
    pub friction: f64,
    /// Keep the input's velocities instead of a Maxwell–Boltzmann start.
    #[arg(long)]
    pub keep_velocities: bool,
    /// Seed of the start velocities and the thermostat.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Trajectory (extended XYZ).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write a trajectory frame every this many steps.
    #[arg(long, default_value_t = 10)]
    pub traj_every: u64,
    /// Log a record every this many steps.
    #[arg(long, default_value_t = 10)]
    pub log_every: u64,
    /// JSON-lines log (default: next to --output, `.log.jsonl`).
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Energy-drift and temperature plot (default: next to --output, `.png`).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Precision of the force calls.
    #[arg(long, value_enum, default_value = "f32")]
    pub dtype: DtypeArg,
    /// Write the run's summary (timing, drift) as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

fn sibling(p: &Path, suffix: &str) -> PathBuf {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".gz")
        .unwrap_or(&name)
        .trim_end_matches(".extxyz")
        .trim_end_matches(".xyz")
        .to_string();
    p.with_file_name(format!("{stem}{suffix}"))
}

fn md(a: &MdArgs, quiet: bool) -> Result<()> {
    let model = models::load(&a.model, a.dtype.dtype(), &crate::runtime::device()?)?;
    let mut opts = a.read.options()?;
    opts.limit = Some(a.frame + 1);
    let frames = read_structures(&a.input, &opts)?.into_strict()?;
    let Some(start) = frames.into_iter().nth(a.frame) else {
        bail!("{}: no frame {}", a.input.display(), a.frame);
    };
    let ensemble = match a.ensemble {
        EnsembleArg::Nve => Ensemble::Nve,
        EnsembleArg::Langevin => Ensemble::Langevin {
            temperature_k: a.temperature,
            friction_per_fs: a.friction,
        },
    };
    let job = chemlm_ff::md::MdJob {
        init_temperature_k: (!a.keep_velocities).then_some(a.temperature),
        start,
        config: MdConfig {
            steps: a.steps,
            dt_fs: a.dt,
            ensemble,
            seed: a.seed,
            log_every: a.log_every,
            traj_every: a.traj_every,
        },
        trajectory: a.output.clone(),
        log: a
            .log
            .clone()
            .or_else(|| a.output.as_ref().map(|o| sibling(o, ".log.jsonl"))),
        plot: a
            .plot
            .clone()
            .or_else(|| a.output.as_ref().map(|o| sibling(o, ".png"))),
        dtype: a.dtype.dtype(),
    };
    let pb = bar(quiet, a.steps, "md");
    let pb2 = pb.clone();
    let report = chemlm_ff::md::run(
        model,
        &job,
        &crate::runtime::device()?,
        Box::new(move |step| pb2.set_position(step)),
    )?;
    pb.finish_and_clear();
    println!(
        "{} steps of {} fs ({:.3} ps), {} atoms: {:.2} ms/step, mean T {:.1} K",
        report.steps,
        a.dt,
        report.duration_ps,
        report.n_atoms,
        report.s_per_step * 1e3,
        report.mean_temperature_k
    );
    if let Some(d) = &report.drift {
        println!(
            "total-energy drift {:.3e} eV/ps ({:.3e} eV/ps/atom), max |E - fit| {:.3e} eV",
            d.ev_per_ps, d.ev_per_ps_per_atom, d.max_deviation_ev
        );
    }
    if let Some(p) = &a.json {
        chemlm_models::io::write_atomic(p, serde_json::to_string_pretty(&report)?.as_bytes())?;
    }
    Ok(())
}

#[derive(Args)]
pub struct BenchArgs {
    /// Model directory.
    #[arg(long)]
    pub model: PathBuf,
    /// The molecule to replicate (first frame).
    #[arg(short, long)]
    pub input: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Edge of the cubic cell holding one copy, Å.
    #[arg(long, default_value_t = 10.0)]
    pub edge: f64,
    /// Replications per axis to time (n → n³ copies).
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5,6,7,8")]
    pub reps: Vec<usize>,
    /// Timed calls per size (median reported).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Precision.
    #[arg(long, value_enum, default_value = "f32")]
    pub dtype: DtypeArg,
    /// Also write the table as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

fn bench(a: &BenchArgs, _quiet: bool) -> Result<()> {
    let model = models::load(&a.model, a.dtype.dtype(), &crate::runtime::device()?)?;
    let mut opts = a.read.options()?;
    opts.limit = Some(1);
    let Some(mol) = read_structures(&a.input, &opts)?
        .into_strict()?
        .into_iter()
        .next()
    else {
        bail!("{}: no frame", a.input.display());
    };
    let points = chemlm_ff::bench::size_scaling(
        model.as_ref(),
        &mol,
        a.edge,
        &a.reps,
        a.rounds,
        a.dtype.dtype(),
        &crate::runtime::device()?,
    )?;
    println!(
        "| copies | atoms | edges | s / call | µs / atom | peak RSS MiB | RSS above start MiB |"
    );
    println!("|---|---|---|---|---|---|---|");
    for p in &points {
        let f = |v: Option<f64>| v.map(|x| format!("{x:.0}")).unwrap_or_else(|| "-".into());
        println!(
            "| {} | {} | {} | {:.4} | {:.1} | {} | {} |",
            p.reps.pow(3),
            p.n_atoms,
            p.n_edges,
            p.median_s,
            p.us_per_atom,
            f(p.peak_rss_mib),
            f(p.extra_rss_mib)
        );
    }
    if let Some(p) = &a.json {
        chemlm_models::io::write_atomic(p, serde_json::to_string_pretty(&points)?.as_bytes())?;
    }
    Ok(())
}
