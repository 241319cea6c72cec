"""Uploads read what Korean Excel saves: CP949/EUC-KR and UTF-8 with BOM through the connections' detector, the
detected encoding and delimiter recorded and shown, and upload errors in the page's language."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient

from mlpilot.core.errors import InvalidInput
from mlpilot.core.i18n import get_translations
from mlpilot.datasets import ingest
from tests.datasets.connectors.factories import KOREAN_ROWS, korean_csv
from tests.datasets.factories import create_project
from tests.datasets.test_views import login

KOREAN_HEADER = ["이름", "나이", "주소"]


@pytest.mark.parametrize(("encoding", "bom", "delimiter", "expected"), [
    ("cp949", False, ",", "cp949"), ("euc-kr", False, ";", "cp949"), ("utf-8", True, "\t", "utf-8-sig"),
    ("utf-8", False, "|", "utf-8"),
])
def test_korean_files_upload_in_every_encoding_excel_writes(encoding: str, bom: bool, delimiter: str,
                                                            expected: str) -> None:
    parsed = ingest.parse_upload("고객.csv", korean_csv(encoding, delimiter=delimiter, bom=bom))
    assert parsed.frame.columns == KOREAN_HEADER
    assert parsed.frame["이름"].to_list() == [name for name, _, _ in KOREAN_ROWS]
    assert parsed.frame["나이"].to_list() == [age for _, age, _ in KOREAN_ROWS]
    assert (parsed.encoding, parsed.delimiter) == (expected, delimiter)


def test_cp949_after_a_long_ascii_start_is_detected() -> None:
    # The fast UTF-8 check passes the first 64 KiB; the Korean bytes further down still switch to CP949.
    ascii_rows = b"".join(f"{i},abc\r\n".encode() for i in range(10_000))
    data = b"id,name\r\n" + ascii_rows + "10000,똠방각하\r\n".encode("cp949")
    parsed = ingest.parse_upload("late.csv", data)
    assert parsed.encoding == "cp949" and parsed.frame["name"].to_list()[-1] == "똠방각하"
    assert parsed.frame.height == 10_001


def test_a_character_across_the_sniffed_head_is_not_an_error() -> None:
    # A three-byte Hangul character starts at byte 65,534: the 64 KiB head ends inside it, the file is fine.
    data = b"id,name\n" + b"1,x\n" * 16381 + "2,가나다\n".encode() * 20
    assert data[65534] >= 0xE0 and 0x80 <= data[65535] < 0xC0 and 0x80 <= data[65536] < 0xC0
    for encoding in ("utf-8", "cp949"):
        body = data if encoding == "utf-8" else data.decode().encode("cp949")
        parsed = ingest.parse_upload("head.csv", body)
        assert parsed.encoding == encoding and parsed.frame["name"].to_list()[-1] == "가나다"


def test_neither_utf8_nor_cp949_names_the_offset_and_the_encodings_tried() -> None:
    data = b"id,name\n1,abc\n" + b"2,\xff\xfe\n"
    with pytest.raises(InvalidInput) as caught:
        ingest.parse_upload("odd.csv", data)
    detail = caught.value.detail
    assert "byte 0xff at offset 16 is not valid UTF-8 (line 3)" in detail
    assert "tried UTF-8, UTF-8 with BOM and CP949/EUC-KR" in detail
    korean = caught.value.localized(get_translations("ko").gettext)
    assert "오프셋 16의 바이트 0xff" in korean and "시도한 인코딩" in korean
    # A file mixing UTF-8 and CP949 lines is named as such, not silently read.
    with pytest.raises(InvalidInput, match="mixes encodings: line 2 is UTF-8 but line 3 is not"):
        ingest.parse_upload("mixed.csv", "a,b\n홍길동,1\n".encode() + "김철수,2\n".encode("cp949"))


def test_cp949_upload_through_the_form_shows_the_detected_encoding(client: TestClient) -> None:
    pid = create_project(client)
    login(client)
    done = client.post(f"/projects/{pid}/datasets/upload", data={"name": "고객 명단"},
                       files={"file": ("고객.csv", korean_csv("cp949", delimiter=";"), "text/csv")},
                       follow_redirects=False)
    assert done.status_code == 303
    dataset = client.get(f"/api/v1/projects/{pid}/datasets").json()[0]
    assert dataset["name"] == "고객 명단"
    version = client.get(f"/api/v1/datasets/{dataset['id']}").json()["versions"][0]
    assert [c["name"] for c in version["schema"]] == KOREAN_HEADER
    lineage = client.get(f"/api/v1/dataset-versions/{version['id']}/lineage").json()
    assert (lineage["encoding"], lineage["delimiter"]) == ("cp949", ";")
    page = client.get(f"/dataset-versions/{version['id']}").text
    assert "CP949/EUC-KR" in page and "semicolon" in page and "홍길동" in page
    client.cookies.set("mlpilot_lang", "ko")
    korean_page = client.get(f"/dataset-versions/{version['id']}").text
    assert "세미콜론" in korean_page and "자동 감지" in korean_page


def test_upload_errors_are_in_korean_in_the_korean_ui(client: TestClient) -> None:
    pid = create_project(client)
    login(client)
    client.cookies.set("mlpilot_lang", "ko")
    ragged = client.post(f"/projects/{pid}/datasets/upload", data={"name": "고객"},
                         files={"file": ("고객.csv", "이름,나이\n홍길동,1,2\n".encode("cp949"), "text/csv")})
    assert ragged.status_code == 422
    assert "2번째 줄: 헤더처럼 필드 2개가 있어야 하는데 3개입니다" in ragged.text
    assert "expected 2 fields" not in ragged.text
    binary = client.post(f"/projects/{pid}/datasets/upload", data={"name": "x"},
                         files={"file": ("x.csv", b"a,b\n1,\xff\n", "text/csv")})
    assert binary.status_code == 422 and "시도한 인코딩: UTF-8, BOM 있는 UTF-8, CP949/EUC-KR" in binary.text
    slides = client.post(f"/projects/{pid}/datasets/upload", data={"name": "x"},
                         files={"file": ("발표.pptx", b"PK\x03\x04", "application/octet-stream")})
    assert slides.status_code == 422 and "파일 형식 '.pptx'은(는) 지원하지 않습니다" in html.unescape(slides.text)
    sheet = client.post(f"/projects/{pid}/datasets/upload", data={"name": "x"},
                        files={"file": ("표.xlsx", b"PK\x03\x04 not really", "application/octet-stream")})
    assert sheet.status_code == 422 and "올바른 .xlsx 통합 문서가 아닙니다" in sheet.text
    no_file = client.post(f"/projects/{pid}/datasets/upload", data={"name": "x"})
    assert no_file.status_code == 422 and "업로드할 파일을 선택하세요." in no_file.text
    # The API keeps English problem details whatever the cookie says.
    api = client.post(f"/api/v1/projects/{pid}/datasets", data={"name": "x"},
                      files={"file": ("x.csv", b"a,b\n1,\xff\n", "text/csv")})
    assert api.status_code == 422 and "is not UTF-8 text/CSV" in api.json()["detail"]
