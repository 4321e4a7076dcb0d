"""`govnlp report`: the warehouse datasets as one self-contained, offline HTML page of charts.

Pure: takes the datasets of ``govnlp.warehouse.report_data`` (lists of plain
dicts) and returns HTML. Charts are Altair (Vega-Lite) specs with inline data;
the vega, vega-lite and vega-embed JavaScript comes from vl-convert-python's
bundle and is inlined, so the file needs no network. An empty dataset gives a
chart with a "no data" text mark instead of an empty or broken chart.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any

import altair as alt

WIDTH = 760
LABEL_LIMIT = 260


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    caption: str
    chart: alt.TopLevelMixin
    table: str = ""  # HTML shown under the chart (already escaped)


def _data(rows: list[dict]) -> alt.Data:
    return alt.Data(values=[dict(r) for r in rows])


def no_data_chart(message: str = "no data", width: int = WIDTH, height: int = 80) -> alt.Chart:
    """A chart that says there is nothing to show (still a valid, rendered chart)."""
    return alt.Chart(_data([{"message": message}])).mark_text(
        fontSize=16, color="#888", align="center", baseline="middle",
    ).encode(text="message:N").properties(width=width, height=height)


def _month(field: str = "month", title: str = "month") -> alt.X:
    return alt.X(f"yearmonth({field}):O", title=title, axis=alt.Axis(labelAngle=-40, format="%Y-%m"))


def _count_axis(rows: list[dict], field: str = "documents") -> alt.Axis:
    """Integer ticks for a stacked count per month (no 0.5 ticks on small counts)."""
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["month"]] = totals.get(r["month"], 0) + int(r.get(field) or 0)
    return alt.Axis(format="d", tickMinStep=1, tickCount=max(1, min(max(totals.values(), default=1), 10)))


def documents_chart(rows: list[dict]) -> alt.TopLevelMixin:
    if not rows:
        return no_data_chart("no dated canonical documents in this period")
    return alt.Chart(_data(rows)).mark_bar().encode(
        x=_month(),
        y=alt.Y("sum(documents):Q", title="documents", axis=_count_axis(rows)),
        color=alt.Color("publisher:N", title="publisher", legend=alt.Legend(labelLimit=LABEL_LIMIT, orient="bottom", columns=1)),
        tooltip=[alt.Tooltip("yearmonth(month):T", title="month"), "publisher:N", "documents:Q"],
    ).properties(width=WIDTH, height=260)


def duplicates_chart(rows: list[dict]) -> alt.TopLevelMixin:
    if not rows:
        return no_data_chart("no duplicate documents in this period")
    return alt.Chart(_data(rows)).mark_bar().encode(
        x=_month(),
        y=alt.Y("sum(documents):Q", title="duplicate documents", axis=_count_axis(rows)),
        color=alt.Color("duplicate_kind:N", title="kind"),
        tooltip=[alt.Tooltip("yearmonth(month):T", title="month"), "duplicate_kind:N", "documents:Q"],
    ).properties(width=WIDTH, height=200)


def themes_chart(rows: list[dict]) -> alt.TopLevelMixin:
    if not rows:
        return no_data_chart("no themed paragraphs in this period")
    base = alt.Chart(_data(rows)).encode(
        x=_month(),
        y=alt.Y("theme:N", title=None, sort="ascending", axis=alt.Axis(labelLimit=LABEL_LIMIT)),
    )
    months = len({r["month"] for r in rows})
    heat = base.mark_rect().encode(
        color=alt.Color("share:Q", title="share", scale=alt.Scale(scheme="blues", domain=[0, 1]),
                        legend=alt.Legend(format="%")),
        tooltip=[alt.Tooltip("yearmonth(month):T", title="month"), "theme:N",
                 alt.Tooltip("share:Q", format=".1%"), "paragraphs:Q", "total_paragraphs:Q"],
    )
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("share:Q", format=".0%"),
        color=alt.condition("datum.share > 0.5", alt.value("white"), alt.value("black")),
    )
    return (heat + text).properties(width=min(WIDTH, max(120, 70 * months)), height=alt.Step(20))


def topics_chart(rows: list[dict]) -> alt.TopLevelMixin:
    """The largest topics' share of paragraphs per month, one line per topic."""
    if not rows:
        return no_data_chart("no topics in this period")
    return alt.Chart(_data(rows)).mark_line(point=True).encode(
        x=_month(),
        y=alt.Y("share:Q", title="share of paragraphs", axis=alt.Axis(format="%")),
        color=alt.Color("topic:N", title="topic", legend=alt.Legend(orient="bottom", columns=2, labelLimit=LABEL_LIMIT)),
        tooltip=[alt.Tooltip("yearmonth(month):T", title="month"), "topic:N",
                 alt.Tooltip("share:Q", format=".1%"), "paragraphs:Q", "total_paragraphs:Q"],
    ).properties(width=WIDTH - 100, height=260)


def emerging_table(rows: list[dict]) -> str:
    """The emerging topics as an HTML table (rising share first)."""
    if not rows:
        return '<p class="caption" id="emerging-topics">No emerging topics: no topics, or no dated paragraphs in this period.</p>'
    pct = lambda v: "" if v is None else f"{100 * v:.1f}%"  # noqa: E731
    head = (f'<p class="caption">Emerging topics: {html.escape(rows[0]["window_start"])} to {html.escape(rows[0]["window_end"])} '
            f'against the {rows[0]["window_days"]} days before; share of paragraphs now, before, and the change.</p>')
    body = "".join(
        f"<tr><td>{html.escape(str(r['topic']))}</td><td>{html.escape(', '.join(r.get('terms') or []))}</td>"
        f"<td>{r['paragraphs_now']}</td><td>{pct(r['share_now'])}</td><td>{pct(r['share_before'])}</td>"
        f"<td>{'+' if (r['share_change'] or 0) > 0 else ''}{pct(r['share_change'])}</td></tr>"
        for r in rows
    )
    return (f'{head}<table id="emerging-topics"><thead><tr><th>topic</th><th>terms</th><th>paragraphs</th>'
            f"<th>share</th><th>before</th><th>change</th></tr></thead><tbody>{body}</tbody></table>")


def entities_chart(rows: list[dict]) -> alt.TopLevelMixin:
    if not rows:
        return no_data_chart("no entity mentions in this period")
    return alt.Chart(_data(rows)).mark_bar().encode(
        y=alt.Y("canonical_name:N", title=None, sort=alt.EncodingSortField("documents", order="descending"),
                axis=alt.Axis(labelLimit=200)),
        x=alt.X("documents:Q", title="documents", axis=alt.Axis(tickMinStep=1)),
        color=alt.Color("label:N", title="type", legend=None),
        tooltip=["label:N", "canonical_name:N", "documents:Q", "mentions:Q"],
    ).properties(width=150, height=alt.Step(14)).facet(
        facet=alt.Facet("label:N", title=None), columns=3,
    ).resolve_scale(y="independent")


def circular_layout(node_ids: list[str]) -> dict[str, tuple[float, float]]:
    """Evenly spaced positions on the unit circle, first node at the top, clockwise."""
    n = len(node_ids)
    if n == 1:
        return {node_ids[0]: (0.0, 0.0)}
    return {nid: (math.sin(2 * math.pi * i / n), math.cos(2 * math.pi * i / n)) for i, nid in enumerate(node_ids)}


def network_chart(edges: list[dict], nodes: list[dict]) -> alt.TopLevelMixin:
    if not edges or not nodes:
        return no_data_chart("no entity pairs mentioned in the same paragraph in this period")
    # Group by type, most mentioned first, so that related nodes sit together on the circle.
    ordered = sorted(nodes, key=lambda n: (str(n.get("label")), -int(n.get("paragraphs") or 0), str(n.get("name"))))
    pos = circular_layout([n["entity_id"] for n in ordered])
    node_rows = []
    for n in ordered:
        x, y = pos[n["entity_id"]]
        node_rows.append({**n, "x": x, "y": y, "align": "left" if x > 0.05 else ("right" if x < -0.05 else "center"),
                          "lx": x * 1.08, "ly": y * 1.08})
    edge_rows = [
        {**e, "x": pos[e["source_id"]][0], "y": pos[e["source_id"]][1],
         "x2": pos[e["target_id"]][0], "y2": pos[e["target_id"]][1]}
        for e in edges if e["source_id"] in pos and e["target_id"] in pos
    ]
    scale = alt.Scale(domain=[-1.8, 1.8], nice=False)
    hidden = alt.Axis(grid=False, labels=False, ticks=False, domain=False, title=None)
    edge_layer = alt.Chart(_data(edge_rows)).mark_rule(color="#4c78a8", opacity=0.45).encode(
        x=alt.X("x:Q", scale=scale, axis=hidden), y=alt.Y("y:Q", scale=scale, axis=hidden), x2="x2:Q", y2="y2:Q",
        strokeWidth=alt.StrokeWidth("paragraphs:Q", title="shared paragraphs", scale=alt.Scale(range=[0.5, 6])),
        tooltip=["source:N", "target:N", alt.Tooltip("paragraphs:Q", title="shared paragraphs")],
    )
    node_layer = alt.Chart(_data(node_rows)).mark_circle(opacity=1, stroke="white", strokeWidth=1).encode(
        x=alt.X("x:Q", scale=scale, axis=hidden), y=alt.Y("y:Q", scale=scale, axis=hidden),
        size=alt.Size("paragraphs:Q", title="paragraphs", scale=alt.Scale(range=[40, 600])),
        color=alt.Color("label:N", title="type"),
        tooltip=["name:N", "label:N", "paragraphs:Q"],
    )
    text_layers = [
        alt.Chart(_data([r for r in node_rows if r["align"] == align])).mark_text(
            align=align, baseline="middle", fontSize=11, limit=170,
        ).encode(x=alt.X("lx:Q", scale=scale, axis=hidden), y=alt.Y("ly:Q", scale=scale, axis=hidden), text="name:N")
        for align in ("left", "right", "center") if any(r["align"] == align for r in node_rows)
    ]
    return alt.layer(edge_layer, node_layer, *text_layers).properties(width=560, height=560).configure_view(stroke=None)


def speakers_chart(rows: list[dict]) -> alt.TopLevelMixin:
    if not rows:
        return no_data_chart("no attributed quotes in this period (or no quotes table in this warehouse)")
    return alt.Chart(_data(rows)).mark_bar(color="#f58518").encode(
        y=alt.Y("speaker:N", title=None, sort=alt.EncodingSortField("quotes", order="descending"),
                axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        x=alt.X("quotes:Q", title="quotes", axis=alt.Axis(tickMinStep=1)),
        tooltip=["speaker:N", "quotes:Q", "documents:Q"],
    ).properties(width=WIDTH - 260, height=alt.Step(18))


def _run_label(r: dict) -> str:
    return f"{str(r.get('started_at') or '')[:19].replace('T', ' ')} {r.get('flow') or ''} ({r.get('status') or '?'})"


def runs_chart(runs: list[dict], stages: list[dict]) -> alt.TopLevelMixin:
    if not runs:
        return no_data_chart("no runs in this period")
    labels = {r["run_id"]: _run_label(r) for r in runs}
    order = [labels[r["run_id"]] for r in runs]
    y = alt.Y("run:N", title=None, sort=order, axis=alt.Axis(labelLimit=LABEL_LIMIT))
    run_rows = [{**r, "run": labels[r["run_id"]]} for r in runs]
    stage_rows = [{**s, "run": labels[s["run_id"]]} for s in stages if s["run_id"] in labels]
    layers = []
    if stage_rows:
        layers.append(alt.Chart(_data(stage_rows)).mark_bar().encode(
            y=y, x=alt.X("sum(seconds):Q", title="seconds"),
            color=alt.Color("stage:N", title="stage"),
            tooltip=["run:N", "stage:N", alt.Tooltip("seconds:Q", format=".1f")],
        ))
    timed = [r for r in run_rows if r.get("duration_seconds") is not None]
    if timed:
        layers.append(alt.Chart(_data(timed)).mark_point(shape="diamond", filled=True, size=120, color="black").encode(
            y=y, x=alt.X("duration_seconds:Q", title="seconds"),
            tooltip=["run:N", "status:N", "started_at:N", "finished_at:N",
                     alt.Tooltip("duration_seconds:Q", title="wall-clock seconds", format=".1f")],
        ))
    if not layers:  # runs that never finished and recorded no stage times: show them on a zero axis
        layers.append(alt.Chart(_data(run_rows)).mark_point(shape="cross", color="#e45756").encode(
            y=y, x=alt.X("zero:Q", title="seconds (run not finished)"), tooltip=["run:N", "status:N", "started_at:N"],
        ).transform_calculate(zero="0"))
    return alt.layer(*layers).properties(width=WIDTH - 260, height=alt.Step(22))


def sections(data: dict[str, list[dict]]) -> list[Section]:
    g = lambda key: list(data.get(key) or [])  # noqa: E731
    return [
        Section("documents", "Documents over time",
                "Canonical (non-duplicate) documents per month of publication, stacked by publisher.",
                documents_chart(g("documents_by_month"))),
        Section("themes", "Theme shares over time",
                "Per month, the share of canonical paragraphs with each theme assigned (a paragraph can carry up to 3 themes).",
                themes_chart(g("theme_share_by_month"))),
        Section("topics", "Topics over time",
                "Topics found in the paragraphs themselves (the topics stage, no taxonomy): per month, the share of paragraphs in each of the largest topics.",
                topics_chart(g("topic_share_by_month")), emerging_table(g("emerging_topics"))),
        Section("entities", "Top entities by type",
                "The 10 entities of each type mentioned in the most documents.",
                entities_chart(g("top_entities"))),
        Section("network", "Entity co-occurrence network",
                "The 40 entity pairs mentioned together in the most paragraphs; line width is the number of shared paragraphs, node size the paragraphs mentioning the entity.",
                network_chart(g("cooccurrence_edges"), g("cooccurrence_nodes"))),
        Section("duplicates", "Duplicates over time",
                "Duplicate documents (kept and linked to their canonical copy) per month of publication, by kind: exact or near.",
                duplicates_chart(g("duplicates_by_month"))),
        Section("speakers", "Top quoted speakers",
                "Speakers with the most attributed quotes.",
                speakers_chart(g("top_speakers"))),
        Section("runs", "Run history",
                "Seconds per stage of each pipeline run (bars) and its wall-clock duration (diamond).",
                runs_chart(g("runs"), g("run_stages"))),
    ]


@lru_cache(maxsize=1)
def _javascript_bundle() -> str:
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    return vlc.javascript_bundle(vl_version=vl_version_for_vl_convert())


def _json_for_script(value: Any) -> str:
    """JSON that cannot close or comment out the <script> element it is placed in ("<" only occurs in strings)."""
    return json.dumps(value, ensure_ascii=False, default=str).replace("<", "\\u003c")


def _inline_bundle() -> str:
    bundle = _javascript_bundle()
    if re.search(r"</script|<!--", bundle, re.I):  # would end the inline <script> early
        raise RuntimeError("the vl-convert JavaScript bundle cannot be inlined: it contains </script or <!--")
    return bundle


def _period(since: date | None, until: date | None) -> str:
    if since is None and until is None:
        return "all dates"
    return f"{since.isoformat() if since else 'the beginning'} to {until.isoformat() if until else 'today'}"


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto; max-width: 1000px; color: #222; }
header { border-bottom: 1px solid #ddd; margin-bottom: 16px; }
header p { margin: 4px 0; color: #555; }
section { margin: 28px 0; }
section h2 { font-size: 1.2em; margin-bottom: 2px; }
section p.caption { margin-top: 0; color: #555; font-size: 0.92em; }
.chart { min-height: 60px; }
table { border-collapse: collapse; font-size: 0.9em; margin-top: 8px; }
th, td { border-bottom: 1px solid #eee; padding: 3px 8px; text-align: left; vertical-align: top; }
"""


def render_report(data: dict[str, list[dict]], since: date | None, until: date | None,
                  title: str = "govnlp report", generated_at: datetime | None = None) -> str:
    """One self-contained HTML page (inline JavaScript, inline data) with every chart of the report."""
    generated_at = generated_at or datetime.now(timezone.utc)
    secs = sections(data)
    specs = {f"chart-{s.key}": s.chart.to_dict() for s in secs}
    for spec in specs.values():
        spec.pop("$schema", None)  # embed mode is given explicitly; keeps the page free of external URLs
    body = "\n".join(
        f'<section id="{s.key}"><h2>{html.escape(s.title)}</h2><p class="caption">{html.escape(s.caption)}</p>'
        f'<div class="chart" id="chart-{s.key}"></div>{s.table}</section>'
        for s in secs
    )
    specs_json = _json_for_script(specs)
    embed_options = json.dumps({"mode": "vega-lite", "renderer": "svg", "actions": False})
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
<script>
{_inline_bundle()}
</script>
</head>
<body>
<header>
<h1>{html.escape(title)}</h1>
<p>Period (publication date): <strong>{html.escape(_period(since, until))}</strong></p>
<p>Generated: {html.escape(generated_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"))}</p>
</header>
<main>
{body}
</main>
<script>
(function () {{
  const specs = {specs_json};
  const options = {embed_options};
  document.body.dataset.rendered = "pending";
  if (typeof vegaEmbed !== "function") {{
    document.body.dataset.rendered = "error";
    console.error("vega-embed did not load");
    return;
  }}
  Promise.all(Object.entries(specs).map(([id, spec]) => vegaEmbed("#" + id, spec, options)))
    .then(function () {{ document.body.dataset.rendered = "ok"; }})
    .catch(function (err) {{ document.body.dataset.rendered = "error"; console.error(err); }});
}})();
</script>
</body>
</html>
"""
