"""``flask --app lms outcomes [--json] [--condition C] [--profession P]``: program-wide outcomes per measure."""

from __future__ import annotations

import json

import click


@click.command("outcomes")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--condition", default=None, help="Only cases of this condition category (e.g. radiation_trismus).")
@click.option("--profession", default=None, help="Only cases of trainees of this profession.")
def outcomes_cmd(as_json, condition, profession):
    """Mean baseline, follow-up and change per measure, over de-identified cases with both."""
    from lms.cases.outcomes import aggregate

    report = aggregate(condition=condition, profession=profession)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    if not report["measures"]:
        click.echo("No case has both a baseline and a follow-up.")
    for key, row in report["measures"].items():
        mcid = (f"; improved by at least the MCID: {row['improved_mcid']} of {row['cases']}"
                if row["improved_mcid"] is not None else "")
        click.echo(f"{key}: {row['cases']} cases, baseline {row['baseline_mean']}, follow-up {row['followup_mean']}, "
                   f"change {row['change_mean']:+g} {row['unit']}{mcid}")
