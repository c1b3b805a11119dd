//! Optimizers, clipping and schedules against PyTorch / transformers golden values
//! (`scripts/gen_optim_golden.py`).

mod support;

use candle_core::{Device, Tensor, Var};
use chemlm_train::optim::{
    clip_grad_norm, AdamW, AdamWConfig, DecayRule, Lamb, LambConfig, LrSchedule, Optimizer,
    ParamSet, ScheduleKind,
};
use serde_json::Value;
use support::{f32s, shape};

fn golden() -> Value {
    support::golden("optim.json")
}

fn params(g: &Value) -> ParamSet {
    let named = g["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let t = Tensor::from_vec(f32s(&p["init"]), shape(&p["shape"]), &Device::Cpu).unwrap();
            (
                p["name"].as_str().unwrap().to_string(),
                Var::from_tensor(&t).unwrap(),
            )
        })
        .collect();
    let set = ParamSet::from_named(named, &DecayRule::default());
    // The golden's decay flags are those of our rule; check they agree.
    for p in set.iter() {
        let want = g["params"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["name"] == p.name.as_str())
            .unwrap()["decay"]
            .as_bool()
            .unwrap();
        assert_eq!(p.decay, want, "decay flag of {}", p.name);
    }
    set
}

/// Golden parameter order is the script's; ours is sorted by name.
fn golden_index(g: &Value, name: &str) -> usize {
    g["params"]
        .as_array()
        .unwrap()
        .iter()
        .position(|q| q["name"] == name)
        .unwrap()
}

fn run(g: &Value, opt: &mut dyn Optimizer, key: &str) {
    let set = params(g);
    let lrs: Vec<f64> = g["lrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let mut worst = 0f32;
    for (step, lr) in lrs.iter().enumerate() {
        let grads: Vec<Option<Tensor>> = set
            .iter()
            .map(|p| {
                let gi = golden_index(g, &p.name);
                let gv = &g["grads"][step][gi];
                if gv.is_null() {
                    None
                } else {
                    Some(Tensor::from_vec(f32s(gv), p.var.shape(), &Device::Cpu).unwrap())
                }
            })
            .collect();
        opt.step(&set, &grads, *lr).unwrap();
        for p in set.iter() {
            let want = f32s(&g[key]["after"][step][golden_index(g, &p.name)]);
            let got: Vec<f32> = p.var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
            for (a, b) in got.iter().zip(&want) {
                let d = (a - b).abs();
                worst = worst.max(d);
                assert!(d <= 1e-6, "{key} step {step} {}: {a} vs {b}", p.name);
            }
        }
    }
    eprintln!("{key}: max abs difference to reference {worst:e}");
}

#[test]
fn adamw_matches_torch() {
    let g = golden();
    let cfg = AdamWConfig {
        beta1: g["beta1"].as_f64().unwrap(),
        beta2: g["beta2"].as_f64().unwrap(),
        eps: g["adamw"]["eps"].as_f64().unwrap(),
        weight_decay: g["weight_decay"].as_f64().unwrap(),
    };
    let mut opt = AdamW::new(cfg, 4);
    run(&g, &mut opt, "adamw");
}

#[test]
fn lamb_matches_reference() {
    let g = golden();
    let cfg = LambConfig {
        beta1: g["beta1"].as_f64().unwrap(),
        beta2: g["beta2"].as_f64().unwrap(),
        eps: g["lamb"]["eps"].as_f64().unwrap(),
        weight_decay: g["weight_decay"].as_f64().unwrap(),
        max_trust_ratio: None,
    };
    let mut opt = Lamb::new(cfg, 4);
    run(&g, &mut opt, "lamb");
}

#[test]
fn optimizer_state_roundtrip_continues_identically() {
    // Save state after 3 steps, load into a fresh optimizer, continue: same as never stopping.
    let g = golden();
    let lrs = [1e-2, 2e-2, 3e-2, 2e-2, 1e-2];
    let grads_for = |set: &ParamSet, k: usize| -> Vec<Option<Tensor>> {
        set.iter()
            .map(|p| Some((p.var.as_tensor().ones_like().unwrap() * (0.3 + k as f64)).unwrap()))
            .collect()
    };
    for lamb in [false, true] {
        let mk = |n| -> Box<dyn Optimizer> {
            if lamb {
                Box::new(Lamb::new(LambConfig::default(), n))
            } else {
                Box::new(AdamW::new(AdamWConfig::default(), n))
            }
        };
        let a = params(&g);
        let mut oa = mk(a.len());
        for (k, lr) in lrs.iter().enumerate() {
            oa.step(&a, &grads_for(&a, k), *lr).unwrap();
        }
        let b = params(&g);
        let mut ob = mk(b.len());
        for (k, lr) in lrs.iter().enumerate().take(3) {
            ob.step(&b, &grads_for(&b, k), *lr).unwrap();
        }
        let saved: std::collections::HashMap<String, Tensor> =
            ob.state_tensors(&b).unwrap().into_iter().collect();
        let mut oc = mk(b.len());
        oc.load_state(&b, &saved).unwrap();
        for (k, lr) in lrs.iter().enumerate().skip(3) {
            oc.step(&b, &grads_for(&b, k), *lr).unwrap();
        }
        for (pa, pb) in a.iter().zip(b.iter()) {
            let x: Vec<f32> = pa.var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
            let y: Vec<f32> = pb.var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
            assert_eq!(x, y, "{} (lamb={lamb})", pa.name);
        }
    }
}

#[test]
fn clipping_matches_torch() {
    let g = golden();
    let c = &g["clip"];
    let mut grads: Vec<Option<Tensor>> = c["grads"]
        .as_array()
        .unwrap()
        .iter()
        .zip(c["shapes"].as_array().unwrap())
        .map(|(v, s)| Some(Tensor::from_vec(f32s(v), shape(s), &Device::Cpu).unwrap()))
        .collect();
    let norm = clip_grad_norm(&mut grads, c["max_norm"].as_f64().unwrap()).unwrap();
    assert!((norm - c["norm"].as_f64().unwrap()).abs() < 1e-4 * norm);
    for (got, want) in grads.iter().zip(c["clipped"].as_array().unwrap()) {
        let got: Vec<f32> = got
            .as_ref()
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        for (a, b) in got.iter().zip(f32s(want)) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
}

#[test]
fn schedules_match_transformers() {
    let g = golden();
    for s in g["schedules"].as_array().unwrap() {
        let kind: ScheduleKind = s["kind"].as_str().unwrap().parse().unwrap();
        let sch = LrSchedule {
            kind,
            peak_lr: s["peak_lr"].as_f64().unwrap(),
            warmup_steps: s["warmup"].as_u64().unwrap(),
            total_steps: s["total"].as_u64().unwrap(),
        };
        for (step, want) in s["lrs"].as_array().unwrap().iter().enumerate() {
            let want = want.as_f64().unwrap();
            let got = sch.lr_at(step as u64);
            assert!(
                (got - want).abs() < 1e-12,
                "{kind:?} step {step}: {got} vs {want}"
            );
        }
    }
}
