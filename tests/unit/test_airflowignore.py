"""dynadag keeps only its own block of the user's `.airflowignore`."""

from __future__ import annotations

import pytest

from lambda_compiler.airflowignore import BEGIN, END, merge_airflowignore

BLOCK = f"{BEGIN}\ndags_runtime/\n{END}\n".encode()


def test_an_empty_file_gets_just_the_block() -> None:
    assert merge_airflowignore(b"") == BLOCK


def test_a_file_without_the_block_keeps_its_lines_and_gets_the_block_appended() -> None:
    assert merge_airflowignore(b"scratch/\n.*_wip\\.py\n") == b"scratch/\n.*_wip\\.py\n" + BLOCK


def test_a_last_line_without_a_newline_is_not_glued_to_the_block() -> None:
    assert merge_airflowignore(b"scratch/") == b"scratch/\n" + BLOCK


def test_an_old_block_is_replaced_in_place_with_user_lines_before_and_after_kept() -> None:
    current = f"before/\n{BEGIN}\nold_rule/\n{END}\nafter/\n".encode()
    assert merge_airflowignore(current) == b"before/\n" + BLOCK + b"after/\n"


def test_merging_twice_changes_nothing() -> None:
    once = merge_airflowignore(b"mine/\n")
    assert merge_airflowignore(once) == once


def test_crlf_files_keep_their_line_endings_and_get_a_crlf_block() -> None:
    current = f"mine/\r\n{BEGIN}\r\nold/\r\n{END}\r\ntheirs/\r\n".encode()
    merged = merge_airflowignore(current)
    assert merged == (f"mine/\r\n{BEGIN}\r\ndags_runtime/\r\n{END}\r\ntheirs/\r\n".encode())
    assert merge_airflowignore(merged) == merged


def test_a_block_duplicated_by_hand_is_kept_once_where_the_first_was() -> None:
    block = f"{BEGIN}\ndags_runtime/\n{END}\n"
    current = f"a/\n{block}b/\n{block}c/\n".encode()
    assert merge_airflowignore(current) == b"a/\n" + BLOCK + b"b/\nc/\n"


def test_a_begin_without_end_drops_only_the_marker_never_a_user_line() -> None:
    current = f"a/\n{BEGIN}\nb/\nc/\n".encode()
    assert merge_airflowignore(current) == b"a/\nb/\nc/\n" + BLOCK


def test_a_stray_end_marker_is_dropped() -> None:
    assert merge_airflowignore(f"a/\n{END}\n".encode()) == b"a/\n" + BLOCK


@pytest.mark.parametrize(
    "user",
    [b"caf\xe9/\n", b"\xef\xbb\xbfmine/\n", b"  # a comment\n\n\nspaced rule  \n"],
    ids=["latin-1", "utf-8-bom", "blank-lines-and-spaces"],
)
def test_user_bytes_are_kept_exactly_whatever_their_encoding(user: bytes) -> None:
    assert merge_airflowignore(user) == user + BLOCK


def test_the_rules_are_the_ones_asked_for() -> None:
    merged = merge_airflowignore(b"", rules=["a/", "b/"])
    assert merged == f"{BEGIN}\na/\nb/\n{END}\n".encode()
