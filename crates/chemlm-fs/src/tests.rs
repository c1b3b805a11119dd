use super::*;

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A process id that is certainly not running (above the kernel's pid_max).
const DEAD: u32 = 4_999_999;

#[test]
fn a_file_is_replaced_only_on_commit() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("sub/out.txt");
    write_bytes(&p, b"old\n").unwrap();
    {
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"half").unwrap();
        assert!(f.temp().exists());
        // Dropped: an error path.
    }
    assert_eq!(std::fs::read(&p).unwrap(), b"old\n");
    assert_eq!(names(p.parent().unwrap()), ["out.txt"]);
    write_with(&p, |w| w.write_all(b"new\n")).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"new\n");
    let e = write_with(&p, |_| Err(std::io::Error::other("boom"))).unwrap_err();
    assert!(e.to_string().contains("out.txt: boom"), "{e}");
    assert_eq!(std::fs::read(&p).unwrap(), b"new\n");
    assert_eq!(names(p.parent().unwrap()), ["out.txt"]);
}

#[test]
fn stale_temporaries_of_dead_processes_are_swept() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("out.txt");
    let dead = d.path().join(format!(".out.txt.tmp-{DEAD}"));
    let dead_ext = d.path().join(format!(".out.txt.tmp-{DEAD}.png"));
    let dead_dir = d.path().join(format!(".out.txt.tmp-{DEAD}x"));
    let mine = temp_path(&p);
    let other = d.path().join(format!(".other.txt.tmp-{DEAD}"));
    std::fs::write(&dead, "x").unwrap();
    std::fs::write(&dead_ext, "x").unwrap();
    std::fs::create_dir(&dead_dir).unwrap();
    std::fs::write(&mine, "x").unwrap();
    std::fs::write(&other, "x").unwrap();
    assert_eq!(sweep_stale(&p), 2);
    // Not a pid (`4999999x`), this process, or another destination: kept.
    assert!(dead_dir.exists() && mine.exists() && other.exists());
    assert!(!dead.exists() && !dead_ext.exists());
}

#[test]
fn a_directory_is_replaced_whole_and_restored_after_a_crash_mid_swap() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("run");
    let a = AtomicDir::create(&p).unwrap();
    std::fs::write(a.path().join("x"), "1").unwrap();
    a.commit().unwrap();
    let b = AtomicDir::create(&p).unwrap();
    std::fs::write(b.path().join("y"), "2").unwrap();
    drop(b);
    assert_eq!(names(&p), ["x"]);
    assert_eq!(names(d.path()), ["run"]);
    let c = AtomicDir::create(&p).unwrap();
    std::fs::write(c.path().join("z"), "3").unwrap();
    c.commit().unwrap();
    assert_eq!(names(&p), ["z"]);
    assert_eq!(names(d.path()), ["run"]);
    // A crash between the two renames of a commit: the old copy is put back.
    std::fs::rename(&p, d.path().join(format!(".run.tmp-{DEAD}.old"))).unwrap();
    std::fs::create_dir(d.path().join(format!(".run.tmp-{DEAD}"))).unwrap();
    assert_eq!(sweep_stale(&p), 1);
    assert_eq!(names(&p), ["z"]);
    assert_eq!(names(d.path()), ["run"]);
}

#[test]
fn a_path_writer_gets_its_extension_and_errors_clean_up() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("fig.png");
    write_via_path::<FsError>(&p, true, |tmp| {
        assert!(tmp.to_string_lossy().ends_with(".png"));
        std::fs::write(tmp, "img").map_err(FsError::at(tmp))
    })
    .unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"img");
    let e = write_via_path::<FsError>(&p, false, |tmp| {
        std::fs::write(tmp, "half").unwrap();
        Err(FsError::at(tmp)(std::io::Error::other("no")))
    });
    assert!(e.is_err());
    assert_eq!(names(d.path()), ["fig.png"]);
}

#[test]
fn a_run_directory_is_swept_of_every_dead_temporary() {
    let d = tempfile::tempdir().unwrap();
    for n in [
        format!(".a.txt.tmp-{DEAD}"),
        format!(".step-00000100.tmp-{DEAD}"),
        format!(".b.tar.tmp-{DEAD}.gz"),
    ] {
        std::fs::write(d.path().join(n), "x").unwrap();
    }
    std::fs::write(d.path().join("keep.tmp-1"), "x").unwrap();
    std::fs::write(d.path().join(format!(".tmp-{DEAD}")), "x").unwrap();
    std::fs::write(temp_path(&d.path().join("c")), "x").unwrap();
    assert_eq!(sweep_stale_in(d.path()), 3);
    assert_eq!(names(d.path()).len(), 3);
    assert_eq!(parse_temp(".x.tmp-5.old"), Some(("x", 5, "old")));
    assert_eq!(parse_temp(".x.tmp-y"), None);
}
