"""Identity-number rules (GB 32100-2015 and GB 11643-1999); pure, no database."""

import pytest

from server.registry.ids import (
    USCC_CHARSET,
    id_birth_date,
    id_check_digit,
    is_valid_id_number,
    is_valid_uscc,
    mask_id_number,
    normalise_id_number,
    normalise_uscc,
    org_code_check_char,
    uscc_check_char,
)

# A valid code cited widely as an example of the format (Fuzhou, org code M000100Y4).
PUBLISHED_USCC = "91350100M000100Y43"


def test_published_example_validates():
    assert is_valid_uscc(PUBLISHED_USCC)
    assert uscc_check_char(PUBLISHED_USCC[:17]) == "3"
    # Its embedded organisation code M000100Y4 also carries a correct GB 11714 check.
    assert org_code_check_char("M000100Y") == "4"


def test_check_char_by_hand():
    # 17 zeros weigh nothing: (31 - 0) % 31 = 0 -> "0".
    assert uscc_check_char("0" * 17) == "0"
    # A single 1 in the first position: sum 1 -> 30 -> "Y" (the last character).
    assert uscc_check_char("1" + "0" * 16) == "Y"
    # A single 1 in the second position: sum 3 -> 28 -> "W".
    assert uscc_check_char("01" + "0" * 15) == "W"
    assert is_valid_uscc("0" * 18)


def test_built_codes_validate():
    for first17 in ("91120225MA05C0D1X", "12120225401359811", "11120119000012345"):
        code = first17 + uscc_check_char(first17)
        assert is_valid_uscc(code), code


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y44",  # wrong check character
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y430",  # 19 characters
        "",
        None,
        "91350100m000100y43",  # lower case is not canonical
        "91350100I000100Y43",  # I is not in the alphabet
        "91350100O000100Y43",  # O
        "91350100Z000100Y43",  # Z
        "91350100S000100Y43",  # S
        "91350100V000100Y43",  # V
        "９1350100M000100Y43",  # full-width digit
    ],
)
def test_invalid_uscc(code):
    assert not is_valid_uscc(code)


def test_every_wrong_check_char_is_rejected():
    first17 = PUBLISHED_USCC[:17]
    for c in USCC_CHARSET:
        assert is_valid_uscc(first17 + c) == (c == "3")


def test_uscc_check_char_rejects_bad_input():
    with pytest.raises(ValueError):
        uscc_check_char("91350100M000100Y")
    with pytest.raises(ValueError):
        uscc_check_char("91350100M000100I4")


def test_normalise_uscc():
    assert normalise_uscc(" ９１３５０１００ｍ０００１００ｙ４３\u3000") == PUBLISHED_USCC
    assert normalise_uscc("9135 0100 m000 100y 43") == PUBLISHED_USCC
    assert normalise_uscc(None) == ""
    assert is_valid_uscc(normalise_uscc("91350100m000100y43"))


# --- resident ID number ---------------------------------------------------------------------

# The examples printed in GB 11643-1999 itself.
STANDARD_IDS = ["11010519491231002X", "440524188001010014"]


def test_standard_examples():
    for number in STANDARD_IDS:
        assert is_valid_id_number(number), number
    assert id_check_digit("11010519491231002") == "X"
    assert id_check_digit("44052418800101001") == "4"


def test_built_jizhou_id():
    first17 = "12022519850315203"
    number = first17 + id_check_digit(first17)
    assert is_valid_id_number(number)
    assert id_birth_date(number).isoformat() == "1985-03-15"


def test_check_digit_by_hand():
    # All zeros: sum 0 -> "1"; a single 1 in the 8th position (weight 1): sum 1 -> "0".
    assert id_check_digit("0" * 17) == "1"
    assert id_check_digit("0" * 7 + "1" + "0" * 9) == "0"


def _with_check(first17: str) -> str:
    return first17 + id_check_digit(first17)


@pytest.mark.parametrize(
    "number",
    [
        "110105194912310021",  # wrong check digit
        "11010519491231002x",  # lower-case x
        "11010519491231002",  # 17 characters
        "11010519491231002XX",  # 19 characters
        "",
        None,
        "1101051949123100AX",  # letter in the body
        _with_check("12022519990231123"),  # 1999-02-31 does not exist
        _with_check("12022519991301123"),  # month 13
        _with_check("12022519990100123"),  # day 0
        _with_check("12022520010229123"),  # 2001 is not a leap year
    ],
)
def test_invalid_id_numbers(number):
    assert not is_valid_id_number(number)


def test_leap_day_is_valid():
    assert is_valid_id_number(_with_check("12022520000229123"))


def test_id_check_digit_rejects_bad_input():
    with pytest.raises(ValueError):
        id_check_digit("1101051949123100")
    with pytest.raises(ValueError):
        id_check_digit("1101051949123100A")


def test_normalise_id_number():
    assert normalise_id_number(" １１０１０５１９４９１２３１００２ｘ ") == "11010519491231002X"
    assert normalise_id_number("110105 19491231 002x") == "11010519491231002X"
    assert normalise_id_number(None) == ""


def test_mask_id_number():
    assert mask_id_number("12010219800101123X") == "1201**********123X"
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_id_number("") == ""
    assert mask_id_number(None) == ""
    assert mask_id_number("1234") == "****"
    assert mask_id_number("12345678") == "********"
    assert mask_id_number("123456789") == "1234*6789"
    masked = mask_id_number("120225198503152035")
    assert len(masked) == 18 and masked.count("*") == 10
