"""Byte vectors copied from instrument-protocols.md (manual examples and public captures)."""

STX, ETX, EOT, ENQ, ACK, NAK, ETB = b"\x02", b"\x03", b"\x04", b"\x05", b"\x06", b"\x15", b"\x17"


def frame(text: bytes, trailer: bytes, end: bytes = ETX) -> bytes:
    return STX + text + end + trailer + b"\r\n"


# Roche cobas u 411 host-interface manual example (section 5.4): 17 frames, checksums verified
COBAS_U411 = [
    (rb"1H|\^&|||cobas u 411^8^3.2.0.1001^Int|||||||P||20110315101822" + b"\r", b"71"),
    (b"2P|1\r", b"3F"),
    (b"3O|1|001|1^^^^SAMPLE||R||||||X|||20110315101754\r", b"F0"),
    (b"4R|1|1^SG|1.005|||||||service\r", b"AD"),
    (b"5R|2|2^pH|7|||||||service\r", b"11"),
    (b"6R|3|3^LEU|neg|||||||service\r", b"45"),
    (b"7R|4|4^NIT|neg|||||||service\r", b"4D"),
    (b"0R|5|5^PRO|neg|||||||service\r", b"4E"),
    (b"1R|6|6^GLU|neg|||||||service\r", b"48"),
    (b"2R|7|7^KET|neg|||||||service\r", b"47"),
    (b"3R|8|8^UBG|neg|||||||service\r", b"44"),
    (b"4R|9|9^BIL|neg|||||||service\r", b"40"),
    (b"5R|10|10^ERY|neg|||||||service\r", b"AA"),
    (b"6R|11|11^COL|p.yel|||||||service\r", b"49"),
    (b"7R|12|12^CLA||||||||service\r", b"56"),
    (b"0M|1|RC|||2001601|20111001|||\r", b"8F"),
    (b"1L|1|N\r", b"04"),
]
COBAS_U411_FRAMES = [frame(text, cs) for text, cs in COBAS_U411]
COBAS_U411_SESSION = ENQ + b"".join(COBAS_U411_FRAMES) + EOT

# cobas 6000 (H7600) capture, section 5.5: three frames, records span frames (ETB).
# Frame 1's printed checksum F3 does not match its bytes (computes F5): a receiver must NAK it.
COBAS_6000_F1 = (
    rb"1H|\^&|||H7600^1|||||host|RSUPL^REAL|P|1"
    + b"\r"
    + b"P|1|||||||U||||||^\r"
    + b"O|1|                123456|0^50005^005^^S1^SC|"
    + rb"^^^717^\^^^418^\^^^798^\^^^570^\^^^435^\^^^690^\^^^781^"
    + b"|R||20190111102416||||N||||1|||||||20190111102948|||F\r"
    + b"C|1|I|                    "
)
COBAS_6000_F2 = (
    b"2          ^^^^|G\r"
    + b"R|1|^^^717/|298|mg/dl||N||F||      |||P1\rC|1|I|0|I\r"
    + b"R|2|^^^418/|29|mg/dl||N||F||      |||P1\rC|1|I|0|I\r"
    + b"R|3|^^^798/|344|mg/dl||N||F||      |||P1\rC|1|I|0|I\r"
    + b"R|4|^^^570/|78|U/l||N||F||      |||P1\rC|1|I|0|I\r"
    + b"R|5|^^^435/|29|mg/dl||N"
)
COBAS_6000_F3 = (
    b"3||F||      |||P1\rC|1|I|0|I\r"
    + b"R|6|^^^690/|0.85|mg/dl||N||F||      |||P1\rC|1|I|0|I\r"
    + b"R|7|^^^781/|1078|mg/dl||HH||F||      |||P1\rC|1|I|26|I\r"
    + b"L|1|N\r"
)
COBAS_6000_CAPTURE = (
    frame(COBAS_6000_F1, b"F3", ETB)
    + frame(COBAS_6000_F2, b"6C", ETB)
    + frame(COBAS_6000_F3, b"90")
)
