"""The usage repository: per session and provider, tokens, characters synthesised, audio seconds."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from db.pool import Db


@dataclass(frozen=True, slots=True)
class UsageCounts:
    """Counts to add to a session's row for one provider, or a session's stored totals."""

    tokens_in: int = 0
    tokens_out: int = 0
    tts_characters: int = 0
    stt_audio_s: float = 0.0


@dataclass(frozen=True, slots=True)
class SessionUsage:
    """A session's usage: the totals, and each provider's share."""

    total: UsageCounts
    by_provider: dict[str, UsageCounts]


async def add_usage(db: Db, session_id: UUID, counts: dict[str, UsageCounts]) -> None:
    """Adds each provider's counts to the session's rows (one statement, so one transaction)."""
    if not counts:
        return
    providers = list(counts)
    await db.execute(
        """
        INSERT INTO session_usage AS u (session_id, provider, tokens_in, tokens_out, tts_characters, stt_audio_s)
        SELECT $1, p, ti, tout, ch, s
        FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::float8[]) AS t(p, ti, tout, ch, s)
        ON CONFLICT (session_id, provider) DO UPDATE SET
            tokens_in = u.tokens_in + excluded.tokens_in,
            tokens_out = u.tokens_out + excluded.tokens_out,
            tts_characters = u.tts_characters + excluded.tts_characters,
            stt_audio_s = u.stt_audio_s + excluded.stt_audio_s,
            updated_at = now()
        """,
        session_id,
        providers,
        [counts[p].tokens_in for p in providers],
        [counts[p].tokens_out for p in providers],
        [counts[p].tts_characters for p in providers],
        [counts[p].stt_audio_s for p in providers],
    )


async def session_usage(db: Db, session_id: UUID) -> SessionUsage:
    rows = await db.fetch(
        "SELECT provider, tokens_in, tokens_out, tts_characters, stt_audio_s FROM session_usage "
        "WHERE session_id = $1 ORDER BY provider",
        session_id,
    )
    by_provider = {
        r["provider"]: UsageCounts(r["tokens_in"], r["tokens_out"], r["tts_characters"], r["stt_audio_s"])
        for r in rows
    }
    total = UsageCounts(
        tokens_in=sum(u.tokens_in for u in by_provider.values()),
        tokens_out=sum(u.tokens_out for u in by_provider.values()),
        tts_characters=sum(u.tts_characters for u in by_provider.values()),
        stt_audio_s=round(sum(u.stt_audio_s for u in by_provider.values()), 3),
    )
    return SessionUsage(total=total, by_provider=by_provider)
