"""The S3 metadata of generated files: one encoder, one decoder, within S3's 2 KB."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from lambda_compiler import __version__
from lambda_compiler.file_metadata import (
    ROLLED_BACK_FROM,
    dag_metadata,
    decode_source_rows,
    encode_source_rows,
    rollback_metadata,
    sha256_hex,
    text_metadata,
)
from lambda_compiler.limits import METADATA_LIMIT
from lambda_compiler.model import DagId
from lambda_compiler.rows import RowRef

JOB = RowRef("mwaa_job", (("job_type", "etl"), ("job_id", "7")))
TASKS = [RowRef("mwaa_task", (("task_id", str(n)),)) for n in (2, 1)]


def _size(metadata: dict[str, str]) -> int:
    return sum(len(k) + len(v) for k, v in metadata.items())


def test_source_rows_are_compact_ascii_grouped_by_table() -> None:
    assert (
        encode_source_rows([*TASKS, JOB])
        == "mwaa_job(job_type,job_id)=etl/7;mwaa_task(task_id)=1,2"
    )


_text = st.text(min_size=1, max_size=12)


@given(
    st.lists(
        st.one_of(
            st.builds(lambda v: RowRef("mwaa_task", (("task_id", v),)), _text),
            st.builds(
                lambda t, i: RowRef("mwaa_job", (("job_type", t), ("job_id", i))), _text, _text
            ),
        ),
        min_size=1,
        max_size=40,
        unique=True,
    )
)
def test_decoding_gives_back_the_encoded_rows(refs: list[RowRef]) -> None:
    encoded = encode_source_rows(refs)
    assert encoded.isascii()
    assert decode_source_rows(encoded) == sorted(refs)


def test_text_not_in_the_encoders_form_does_not_decode() -> None:
    assert decode_source_rows("written by hand") is None


def test_a_dag_file_names_its_hash_writer_dag_and_rows() -> None:
    body = b"dag = 1\n"
    metadata = dag_metadata(DagId("job-daily"), sha256_hex(body), [JOB, *TASKS])
    assert metadata == {
        "sha256": hashlib.sha256(body).hexdigest(),
        "compiler-version": __version__,
        "dag-id": "job-daily",
        "source-row-count": "3",
        "source-rows": "mwaa_job(job_type,job_id)=etl/7;mwaa_task(task_id)=1,2",
    }


def test_rows_that_do_not_fit_in_s3s_2_kb_are_left_out_but_counted() -> None:
    many = [RowRef("mwaa_task", (("task_id", f"{n:05d}"),)) for n in range(400)]
    metadata = dag_metadata(DagId("job-big"), sha256_hex(b""), many)
    assert "source-rows" not in metadata
    assert metadata["source-row-count"] == "400"
    assert _size(metadata) <= METADATA_LIMIT


def test_a_text_file_names_its_hash_and_writer() -> None:
    assert text_metadata(b"x") == {
        "sha256": hashlib.sha256(b"x").hexdigest(),
        "compiler-version": __version__,
    }


def test_a_rollback_copy_keeps_the_metadata_and_names_the_restored_version() -> None:
    original = dag_metadata(DagId("job-daily"), sha256_hex(b"x"), [JOB])
    marked = rollback_metadata(original, "v1")
    assert marked == {**original, ROLLED_BACK_FROM: "v1"}


def test_a_rollback_copy_drops_the_row_list_first_when_over_2_kb() -> None:
    fits = [RowRef("mwaa_task", (("task_id", f"{n:04d}"),)) for n in range(350)]
    original = dag_metadata(DagId("job-daily"), sha256_hex(b"x"), fits)
    assert "source-rows" in original
    marked = rollback_metadata(original, "v" * 200)
    assert "source-rows" not in marked
    assert marked[ROLLED_BACK_FROM] == "v" * 200
    assert _size(marked) <= METADATA_LIMIT
