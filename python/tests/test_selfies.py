"""chemlm.selfies against the `selfies` package: golden files made by scripts/gen_selfies_golden.py
(selfies 2.2.0), and live comparisons on the MOSES fixture when the package is installed."""

from __future__ import annotations

import warnings

import pytest

import chemlm.selfies as sf
from conftest import GOLDEN


def _tsv(name: str):
    for line in (GOLDEN / "selfies" / name).read_text().splitlines():
        if line and not line.startswith("#"):
            yield line.split("\t")


def test_encoder_matches_golden():
    n = 0
    for row in _tsv("encode.tsv"):
        smiles, expected = row[0], row[1]
        if expected == "!ERROR":
            with pytest.raises(sf.EncoderError):
                sf.encoder(smiles)
        else:
            assert sf.encoder(smiles) == expected, smiles
            if len(row) > 2 and row[2] != "!ERROR":
                assert sf.decoder(expected) == row[2], expected
        n += 1
    assert n > 400


def test_decoder_matches_golden():
    n = 0
    for row in _tsv("decode.tsv"):
        s, expected = row[0], row[1] if len(row) > 1 else ""
        if expected == "!ERROR":
            with pytest.raises(sf.DecoderError):
                sf.decoder(s)
        else:
            assert sf.decoder(s) == expected, s
        n += 1
    assert n > 250


def test_live_parity_with_selfies_package(moses):
    selfies = pytest.importorskip("selfies")
    from importlib.metadata import version

    # The golden files and this port follow 2.2.0 (whose __init__ still says 2.1.1).
    assert version("selfies") == "2.2.0"
    good = []
    for smi in moses:
        try:
            enc = selfies.encoder(smi)
        except selfies.EncoderError:
            with pytest.raises(sf.EncoderError):
                sf.encoder(smi)
            continue
        assert sf.encoder(smi) == enc
        assert sf.decoder(enc) == selfies.decoder(enc)
        good.append(smi)
    assert len(good) >= 290
    moses = good
    assert sf.get_semantic_robust_alphabet() == selfies.get_semantic_robust_alphabet()
    for name in ("default", "octet_rule", "hypervalent"):
        assert sf.get_preset_constraints(name) == selfies.get_preset_constraints(name)
    s = sf.encoder(moses[0])
    assert list(sf.split_selfies(s)) == list(selfies.split_selfies(s))
    assert sf.len_selfies(s) == selfies.len_selfies(s)
    enc = [sf.encoder(m) for m in moses[:20]]
    assert sf.get_alphabet_from_selfies(enc) == selfies.get_alphabet_from_selfies(enc)
    alphabet = sorted(sf.get_alphabet_from_selfies(enc) | {"[nop]"})
    stoi = {a: i for i, a in enumerate(alphabet)}
    itos = {i: a for a, i in stoi.items()}
    for e in enc:
        for t in ("label", "one_hot", "both"):
            assert sf.selfies_to_encoding(e, stoi, 60, t) == selfies.selfies_to_encoding(e, stoi, 60, t)
        label = selfies.selfies_to_encoding(e, stoi, enc_type="label")
        assert sf.encoding_to_selfies(label, itos, "label") == e
    flat = selfies.batch_selfies_to_flat_hot(enc, stoi, 60)
    assert sf.batch_selfies_to_flat_hot(enc, stoi, 60) == flat
    assert sf.batch_flat_hot_to_selfies(flat, itos) == selfies.batch_flat_hot_to_selfies(flat, itos)


def test_constraints_are_process_wide_and_validated():
    sf6 = "FS(F)(F)(F)(F)F"
    assert sf.encoder(sf6)  # S may have 6 bonds by default
    try:
        sf.set_semantic_constraints("octet_rule")
        assert sf.get_semantic_constraints() == sf.get_preset_constraints("octet_rule")
        with pytest.raises(sf.EncoderError):
            sf.encoder(sf6)
        custom = sf.get_preset_constraints("default")
        custom["C"] = 3
        sf.set_semantic_constraints(custom)
        assert sf.get_semantic_constraints() == custom
        with pytest.raises(sf.EncoderError):
            sf.encoder("CC(C)(C)C")
        assert sf.decoder("[C][=C][=C][C]") == "C=CCC"  # C keeps 3 bonds
        with pytest.raises(ValueError):
            sf.set_semantic_constraints({"C": 4})  # no "?"
        with pytest.raises(ValueError):
            sf.set_semantic_constraints("nonsense")
    finally:
        sf.set_semantic_constraints()
    assert sf.get_semantic_constraints() == sf.get_preset_constraints("default")
    assert sf.encoder(sf6) and sf.encoder("CC(C)(C)C")


def test_constraints_live_parity_with_selfies_package(moses):
    selfies = pytest.importorskip("selfies")
    custom = selfies.get_preset_constraints("default")
    custom.update({"C": 3, "N-1": 1, "?": 4})
    probes = moses[:50] + ["FS(F)(F)(F)(F)F", "CC(C)(C)C", "[N-]=C", "O=P(O)(O)O"]
    decode_probes = ["[C][=C][=C][C]", "[S][#C][=N][Branch1][C][F][F]", "[P][=P][#P][=O]"]
    try:
        for setting in ("default", "octet_rule", "hypervalent", custom):
            selfies.set_semantic_constraints(setting)
            sf.set_semantic_constraints(setting)
            assert sf.get_semantic_robust_alphabet() == selfies.get_semantic_robust_alphabet()
            for s in probes:
                try:
                    expected = selfies.encoder(s)
                except selfies.EncoderError:
                    with pytest.raises(sf.EncoderError):
                        sf.encoder(s)
                    continue
                assert sf.encoder(s) == expected, (setting, s)
            for s in decode_probes:
                assert sf.decoder(s) == selfies.decoder(s), (setting, s)
    finally:
        selfies.set_semantic_constraints()
        sf.set_semantic_constraints()


def test_errors_and_utilities():
    with pytest.raises(sf.DecoderError):
        sf.decoder("[C][Xyz]")
    gen = sf.split_selfies("[C][O][N")
    assert next(gen) == "[C]" and next(gen) == "[O]"
    with pytest.raises(ValueError, match="hanging"):
        next(gen)
    with pytest.raises(KeyError):
        sf.selfies_to_encoding("[C].[C]", {"[C]": 0})
    with pytest.raises(ValueError):
        sf.selfies_to_encoding("[C]", {"[C]": 0}, enc_type="neither")
    assert sf.encoder("CCO", strict=False) == "[C][C][O]"
    with pytest.raises(NotImplementedError):
        sf.decoder("[C]", compatible=True)


def test_batches_give_none_and_one_warning():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = sf.encoder_batch(["CCO", "C1CC", "c1ccccc1"])
        back = sf.decoder_batch(out[:1] + ["[C][Xyz]"])
    assert out[0] == "[C][C][O]" and out[1] is None and out[2] == sf.encoder("c1ccccc1")
    assert back == ["CCO", None]
    assert len(w) == 2 and "1 of 3 invalid" in str(w[0].message)
    with pytest.raises(TypeError):
        sf.encoder_batch("CCO")


def test_round_trips_keep_the_molecule(moses):
    """SMILES -> SELFIES -> SMILES is the same molecule (same canonical SMILES), list and single."""
    import chemlm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        canon = chemlm.canon(moses)
        enc = sf.encoder_batch(moses)
        back = chemlm.canon([d if d is not None else "" for d in sf.decoder_batch([e or "" for e in enc])])
    checked = 0
    for c, e, b in zip(canon, enc, back):
        if c is None or e is None:
            continue
        assert b == c, (c, e)
        checked += 1
    assert checked >= 290
    assert chemlm.canon(canon[0]) == canon[0]  # canonical form is a fixed point
