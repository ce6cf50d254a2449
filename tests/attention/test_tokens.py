"""Word → token positions, the replace and refine mappers, the equalizer and the schedules (spec §4.7)."""

from __future__ import annotations

import pytest
import torch

from graphflow.attention.mappers import (
    align,
    cross_schedule,
    equalizer,
    refine_mapper,
    replace_matrix,
    self_steps,
)
from graphflow.attention.words import WordNotFound, token_ids, word_positions, word_token_blocks
from graphflow.models.tokenizer import clip_tokenizer


def tokens_of(word: str) -> int:
    return len(clip_tokenizer()(word, add_special_tokens=False)["input_ids"])


def test_single_token_words_count_from_one_after_bos():
    assert word_positions("a red circle", "red") == [2]
    assert word_positions("a red circle", 0) == [1]


def test_a_word_split_into_several_tokens_covers_all_of_them():
    assert tokens_of("xylophonist") > 1
    n = tokens_of("xylophonist")
    assert word_positions("a xylophonist plays", "xylophonist") == list(range(2, 2 + n))
    assert word_positions("a xylophonist plays", "plays") == [2 + n]


def test_attached_punctuation_belongs_to_the_word():
    assert word_positions("a cat, a dog", "cat,") == [2, 3]
    assert word_positions("a cat, a dog", "cat") == [2, 3]  # looked up without its punctuation too
    assert word_positions("a cat, a dog", "dog") == [5]


def test_a_repeated_word_given_as_text_returns_every_occurrence_case_insensitive():
    assert word_positions("a cat and a Dog", "a") == [1, 4]
    assert word_positions("a cat and a Dog", "dog") == [5]


def test_repeated_spaces_make_no_empty_words():
    assert word_token_blocks("a  red   circle") == [[1], [2], [3]]


def test_token_ids_match_the_whole_prompt_tokenized():
    whole = clip_tokenizer()("a photo of a xylophonist", add_special_tokens=True)["input_ids"]
    assert token_ids("a photo of a xylophonist") == whole


def test_missing_word_error_names_the_word_and_lists_the_prompt_words():
    with pytest.raises(WordNotFound, match=r"'purple'.*a, red, circle"):
        word_positions("a red circle", "purple")


def test_prompts_longer_than_one_chunk_are_refused():
    with pytest.raises(ValueError, match="at most 75"):
        word_token_blocks("red " * 80)


def test_replace_matrix_is_identity_for_an_unchanged_prompt():
    assert torch.equal(replace_matrix("a red circle", "a red circle"), torch.eye(77))


def test_replace_matrix_maps_equal_length_blocks_pairwise():
    m = replace_matrix("a red circle on white", "a blue circle on white")
    assert torch.equal(m, torch.eye(77))  # one token each: position 2 -> 2


def test_replace_matrix_spreads_unequal_blocks_and_keeps_the_offset_after_them():
    n = tokens_of("xylophonist")
    m = replace_matrix("a cat plays music", "a xylophonist plays music")
    assert m[2, 2 : 2 + n].tolist() == pytest.approx([1 / n] * n)
    assert m[2].sum() == pytest.approx(1.0)
    assert m[3, 2 + n] == 1 and m[4, 3 + n] == 1 and m[5, 4 + n] == 1  # "plays", "music", EOS
    assert m[0, 0] == 1 and m[1, 1] == 1
    assert m[:, : 5 + n].sum(0).min() > 0  # every target token up to EOS receives some source token
    reverse = replace_matrix("a xylophonist plays music", "a cat plays music")
    assert reverse[2 : 2 + n, 2].tolist() == [1.0] * n
    assert reverse[2 + n, 3] == 1


def test_replace_matrix_needs_the_same_number_of_words():
    with pytest.raises(ValueError, match="same number of words.*AttentionRefine"):
        replace_matrix("a red circle", "a big red circle")


def test_alignment_examples_of_the_spec():
    assert align(["<s>", "a", "cat", "</s>"], ["<s>", "a", "fluffy", "cat", "</s>"]) == [0, 1, -1, 2, 3]
    source = ["<s>", "a", "cat", "sitting", "</s>"]
    target = ["<s>", "a", "cat", "sitting", "on", "a", "mat", "</s>"]
    assert align(source, target) == [0, 1, 2, 3, -1, -1, -1, 4]


def test_alignment_ties_prefer_left_then_up_then_diagonal():
    # x = [A], y = [B]: left (0), up (0) and diagonal (-1): left wins, so B is an insertion.
    assert align(["A"], ["B"]) == [-1]
    # identical sequences align diagonally
    assert align(list("abc"), list("abc")) == [0, 1, 2]


def test_refine_mapper_pads_with_identity_and_alpha_one():
    mapper, alpha = refine_mapper("a cat", "a fluffy cat")
    assert mapper[:5].tolist() == [0, 1, -1, 2, 3]
    assert alpha[:5].tolist() == [1, 1, 0, 1, 1]
    assert mapper[5:].tolist() == list(range(5, 77))
    assert alpha[5:].eq(1).all()


def test_equalizer_scales_only_the_words_tokens():
    values = equalizer("a red circle", [("red", 3.0), ("circle", -1.0)])
    assert values[2] == 3 and values[3] == -1
    assert values[[0, 1, 4, 5]].eq(1).all()


def test_cross_schedule_rows_follow_int_of_fraction_times_steps_plus_one():
    table = cross_schedule("a red circle", 10, (0.0, 0.5))
    assert table.shape == (11, 77)
    assert table[:5].eq(1).all() and table[5:].eq(0).all()  # int(0.5 * 11) = 5


def test_per_word_schedule_touches_only_that_words_columns():
    table = cross_schedule("a red circle", 10, (0.0, 1.0), [("red", 0.2, 0.4)])
    assert table[:, 2].tolist() == [0, 0, 1, 1] + [0] * 7  # int(0.2 * 11) = 2, int(0.4 * 11) = 4
    others = torch.cat([table[:, :2], table[:, 3:]], dim=1)
    assert others.eq(1).all()


def test_self_steps_use_steps_not_steps_plus_one():
    assert self_steps((0.0, 0.4), 10) == range(0, 4)
    assert self_steps((0.2, 0.5), 20) == range(4, 10)
