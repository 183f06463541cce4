"""``trellis peers``: peer-circle matching and peer-mentor pairing (CLINICAL.md §7).

    trellis peers match --input FILE --format json
        FILE (or ``-`` for stdin): {"patients": [...], "circles": [...], "options": {...}}
        JSON: {"assignments": {patient_id: circle_id}, "waitlist": [patient_id],
               "suggested_circles": [{"language", "weekday", "start", "end", "patients"}]}
    trellis peers mentors --input FILE --format json
        FILE: {"mentors": [...], "mentees": [...]}
        JSON: {"pairs": {mentee_id: mentor_id}, "unpaired": [...], "ineligible_mentors": [...]}

Bad input exits 2 with one line on stderr naming the JSON path of the bad value, e.g.
``trellis: error: patients[3].availability[0].start: must be HH:MM (00:00–23:59), got "25:00"``.
"""

from __future__ import annotations

import argparse
from typing import Any

from trellis.cli.common import add_format_argument, emit, read_json_file, sub
from trellis.core.errors import InvalidInput
from trellis.core.peers import describe, match, pair_mentors, parse_match_input, parse_mentor_input


def register(subparsers: Any) -> None:
    p = sub(subparsers, "peers", "Peer circles: match patients to circles, pair peer mentors")
    p.set_defaults(func=_no_action)
    actions = p.add_subparsers(dest="peers_command", metavar="ACTION")

    m = actions.add_parser(
        "match",
        help="propose a circle for each patient due to join; waitlist; suggest new circles",
        description="Propose a circle for each patient due to join (language, slot, identity "
        "opt-in and capacity are hard rules; track focus is a preference); waitlist the rest "
        "and suggest new circles (CLINICAL.md §7).",
    )
    m.add_argument("--input", required=True, metavar="FILE", help="matching JSON ('-' = stdin)")
    add_format_argument(m)
    m.set_defaults(func=run_match)

    t = actions.add_parser(
        "mentors",
        help="pair new patients with trained peer mentors (at most 3 mentees each)",
        description="Pair new patients with eligible peer mentors by language (hard) and track "
        "(preferred); a mentor has at most 3 mentees.",
    )
    t.add_argument("--input", required=True, metavar="FILE", help="mentors JSON ('-' = stdin)")
    add_format_argument(t)
    t.set_defaults(func=run_mentors)


def _no_action(args: argparse.Namespace) -> int:
    raise InvalidInput("peers", "choose an action: match or mentors")


def run_match(args: argparse.Namespace) -> int:
    data = read_json_file(args.input, "--input")
    result = match(parse_match_input(data))
    emit(result.to_dict(), args.format, text=describe(result))
    return 0


def run_mentors(args: argparse.Namespace) -> int:
    data = read_json_file(args.input, "--input")
    mentors, mentees = parse_mentor_input(data)
    result = pair_mentors(mentors, mentees)
    lines = [f"Paired {len(result.pairs)}, unpaired {len(result.unpaired)}."]
    lines += [f"  {mentee} ← mentor {mentor}" for mentee, mentor in result.pairs.items()]
    if result.unpaired:
        lines.append("No mentor yet: " + ", ".join(result.unpaired))
    if result.ineligible_mentors:
        lines.append(
            "Not eligible (needs finished course, opt-in and training): "
            + ", ".join(result.ineligible_mentors)
        )
    emit(result.to_dict(), args.format, text="\n".join(lines))
    return 0
