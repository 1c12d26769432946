"""The rehearsal's verdicts: each assumption the emulator encodes, confirmed or contradicted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Verdict = Literal["confirmed", "contradicted", "skipped"]


@dataclass(frozen=True, slots=True)
class Finding:
    assumption: str
    verdict: Verdict
    observed: str


class Findings:
    """Verdicts in the order checked, printed as one table at the end of the session."""

    def __init__(self) -> None:
        self.rows: list[Finding] = []

    def record(self, assumption: str, confirmed: bool, observed: str) -> bool:
        self.rows.append(
            Finding(assumption, "confirmed" if confirmed else "contradicted", observed)
        )
        return confirmed

    def skip(self, assumption: str, why: str) -> None:
        self.rows.append(Finding(assumption, "skipped", why))

    def table(self) -> str:
        width = max(len(row.assumption) for row in self.rows)
        lines = [f"{'assumption':<{width}}  {'verdict':<12}  observed", "-" * (width + 40)]
        lines += [f"{r.assumption:<{width}}  {r.verdict:<12}  {r.observed}" for r in self.rows]
        return "\n".join(lines)
