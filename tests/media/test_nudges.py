"""Nudge rules on virtual time: each fires once per stretch, at its threshold, and re-arms."""

from media.nudges import NudgeRules


def rules() -> NudgeRules:
    return NudgeRules(silence_s=5, pace_wpm=160, pace_sustain_s=20, face_missing_s=3)


def test_face_missing_fires_once_after_threshold_and_rearms() -> None:
    r = rules()
    fired = [n for t10 in range(0, 100) if (n := r.on_face(t10 / 10, present=not (10 <= t10 < 60)))]
    assert [n.kind for n in fired] == ["face_missing"]
    assert fired[0].at == 4.0  # gone at 1.0 s, nudged 3 s later
    again = [n for t10 in range(100, 150) if (n := r.on_face(t10 / 10, present=False))]
    assert len(again) == 1 and again[0].at == 13.0


def test_brief_face_loss_does_not_nudge() -> None:
    r = rules()
    assert all(r.on_face(t / 10, present=not (10 <= t < 35)) is None for t in range(60))


def test_silence_counts_only_when_neither_side_speaks() -> None:
    r = rules()
    r.on_interviewer(0.0, speaking=True)
    assert r.tick(10.0) == []  # the interviewer talking is not the candidate's silence
    r.on_interviewer(10.0, speaking=False)
    assert r.tick(14.9) == []
    fired = r.tick(15.0)
    assert [n.kind for n in fired] == ["silence"] and fired[0].value == 5.0
    assert r.tick(20.0) == []  # once per stretch
    r.on_voice(21.0, candidate_speaking=True)
    r.on_voice(22.0, candidate_speaking=False)
    assert r.tick(26.9) == [] and len(r.tick(27.0)) == 1


def test_pace_must_be_sustained() -> None:
    r = rules()
    assert all(r.on_wpm(t, 190 if t % 30 < 15 else 120) is None for t in range(0, 120))
    fired = [n for t in range(200, 240) if (n := r.on_wpm(t, 175))]
    assert len(fired) == 1 and fired[0].at == 220 and fired[0].kind == "pace"
