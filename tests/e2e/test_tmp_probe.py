from tests.e2e.support import AXE_NOTES

def test_probe():
    AXE_NOTES.append("probe: [moderate] demo")
