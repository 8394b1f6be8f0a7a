"""A real browser for the tests of the HTML we ship: Debian's chromium, headless, driven by selenium
through chromium-driver (both installed by install.sh). Screenshots go to tests/artifacts/ (kept)."""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@contextlib.contextmanager
def chromium(width: int = 1400, height: int = 900, scale: float = 1.0):
    """A headless Chromium session; yields a selenium WebDriver, quits it afterwards. ``scale`` is the
    device pixel ratio (2 for a high-density laptop screen)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--allow-file-access-from-files",
                f"--force-device-scale-factor={scale:g}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver, name: str) -> Path:
    """Save the page as tests/artifacts/<name>.png (a test artefact a person can look at)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
