"""Drives FixServe's web page in headless Chromium (Debian's chromium and chromium-driver)
through selenium, against a live server that serves the Fashion-MNIST models.

1. The page loads without console errors and lists the models with their heads.
2. Three test images, two chosen with the file input and one dropped on the drop zone,
   each show five bars whose top class is the image's true label.
3. A short training job started from the form draws at least two points on its curves
   from the job's event stream and ends succeeded; its model appears in the list.
4. A longer job is cancelled with its Cancel button and ends cancelled.
5. Labels, keyboard focus and text contrast; at phone width the page needs no sideways scroll.

A screenshot of each step goes to --screenshots. Every wait is bounded.

Usage: web_page_browser.py --url http://127.0.0.1:PORT --images DIR --screenshots DIR
Exits 0 when every check passes, 1 on a failed check, 77 when selenium, chromium or
chromium-driver is missing.
"""

import argparse
import base64
import glob
import importlib.util
import json
import os
import shutil
import sys
import time
import urllib.request

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

if importlib.util.find_spec("selenium") is None or not os.path.exists(CHROMIUM) or not os.path.exists(DRIVER):
    print("missing selenium (pip), chromium or chromium-driver (apt); scripts/install-deps --test installs them")
    sys.exit(77)

# Never let selenium look for a browser or driver of its own.
os.environ["SE_OFFLINE"] = "true"

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

failures = []
started = time.monotonic()


def log(text):
    print(f"[{time.monotonic() - started:6.1f} s] {text}", flush=True)


def check(condition, text):
    log(("ok   " if condition else "FAIL ") + text)
    if not condition:
        failures.append(text)
    return condition


def wait(driver, seconds, condition, what):
    """Polls `condition(driver)` every 0.1 s for at most `seconds`; records a failure on timeout."""
    try:
        # The page re-renders its tables; an element read mid-render is simply read again.
        return WebDriverWait(driver, seconds, poll_frequency=0.1,
                             ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(condition)
    except TimeoutException:
        check(False, f"{what} within {seconds} s")
        return None


def console_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


def screenshot(driver, directory, name):
    path = os.path.join(directory, name)
    driver.save_screenshot(path)
    log(f"screenshot {path}")


def section_screenshot(driver, directory, name, title_id):
    """Just one section of the page, as the README shows it."""
    path = os.path.join(directory, name)
    section = driver.find_element(By.CSS_SELECTOR, f'section[aria-labelledby="{title_id}"]')
    # Only the part inside the viewport is captured.
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", section)
    section.screenshot(path)
    log(f"screenshot {path}")


def normalise(label):
    return "".join(c if c.isalnum() else "-" for c in label).strip("-").lower()


def job_rows(driver):
    """{job id: state} as the job table shows them, read in one script (the table re-renders)."""
    return driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#jobs tbody tr')].map((r) => [r.dataset.job, r.dataset.state]))")


def job_row_state(driver, job_id):
    return job_rows(driver).get(job_id)


def submit_job(driver, model, backbone, head, epochs, limit):
    name = driver.find_element(By.ID, "train-model")
    name.clear()
    name.send_keys(model)
    driver.find_element(By.CSS_SELECTOR, f'#train-backbone option[value="{backbone}"]').click()
    driver.find_element(By.CSS_SELECTOR, f'#train-head option[value="{head}"]').click()
    for field, value in (("train-epochs", epochs), ("train-limit", limit)):
        element = driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(str(value))
    before = set(job_rows(driver))
    # Enter in a field submits the form, as a keyboard user would.
    driver.find_element(By.ID, "train-limit").send_keys(Keys.ENTER)
    added = wait(driver, 20, lambda d: sorted(set(job_rows(d)) - before), f"a job row for {model}")
    return added[0] if added else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--images", required=True, help="PNGs named <index>-<Label>.png (scripts/sample_images.py)")
    parser.add_argument("--screenshots", required=True)
    parser.add_argument("--model", default="fashion-mnist")
    parser.add_argument("--training-seconds", type=float, default=240)
    args = parser.parse_args()
    os.makedirs(args.screenshots, exist_ok=True)

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1100", "--hide-scrollbars", "--no-first-run", "--disable-extensions",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--force-color-profile=srgb", "--lang=en-US"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        run(driver, args)
    finally:
        errors = console_errors(driver)
        check(not errors, f"no console errors at the end ({errors})")
        driver.quit()
    log(f"{len(failures)} failed checks")
    return 1 if failures else 0


def run(driver, args):
    shots = args.screenshots
    # 1. The page and the models.
    driver.get(args.url + "/")
    check(driver.title == "FixServe", f"the page's title is FixServe ({driver.title!r})")
    rows = wait(driver, 30, lambda d: d.find_elements(By.CSS_SELECTOR, "#models tbody tr") or False, "models listed")
    names = [row.find_element(By.CSS_SELECTOR, "th").text.split("\n")[0] for row in rows or []]
    check(args.model in names, f"{args.model} is listed ({names})")
    table = driver.find_element(By.ID, "models").text
    check("hadamard (fixed)" in table and "orthonormal (fixed)" in table, "the head types are shown")
    check(" B" in table and "stores 44 of" in table, "the bytes a fixed head saves are shown")
    wait(driver, 10, lambda d: d.find_element(By.ID, "classify-model").get_attribute("value") == args.model,
         f"{args.model} chosen for classifying")
    errors = console_errors(driver)
    check(not errors, f"the page loads without console errors ({errors})")
    screenshot(driver, shots, "01-models.png")
    section_screenshot(driver, shots, "web-models.png", "models-title")

    # 2. Three images of different classes, the last one dropped.
    images = sorted(glob.glob(os.path.join(args.images, "*.png")))
    chosen, seen = [], set()
    for path in images:
        label = normalise(os.path.basename(path).split("-", 1)[1].rsplit(".", 1)[0])
        if label not in seen:
            seen.add(label)
            chosen.append((path, label))
        if len(chosen) == 3:
            break
    check(len(chosen) == 3, f"three test images of different classes ({len(chosen)})")
    for index, (path, label) in enumerate(chosen):
        name = os.path.basename(path)
        if index < 2:
            driver.find_element(By.ID, "image-file").send_keys(os.path.abspath(path))
            how = "chosen"
        else:
            with open(path, "rb") as f:
                data = base64.b64encode(f.read()).decode()
            driver.execute_script("""
                const [name, data] = arguments;
                const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
                const transfer = new DataTransfer();
                transfer.items.add(new File([bytes], name, { type: "image/png" }));
                const zone = document.getElementById("drop-zone");
                for (const type of ["dragenter", "dragover", "drop"]) {
                  zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
                }""", name, data)
            how = "dropped"
        done = wait(driver, 20, lambda d: d.find_element(By.ID, "prediction-caption").text == name
                    and len(d.find_elements(By.CSS_SELECTOR, "#prediction-bars li")) == 5, f"five bars for {name}")
        if not done:
            continue
        bars = driver.find_elements(By.CSS_SELECTOR, "#prediction-bars li")
        top = normalise(bars[0].get_attribute("data-label"))
        check(top == label, f"{how} {name}: top class {bars[0].get_attribute('data-label')!r} is the true label")
        widths = [b.find_element(By.CSS_SELECTOR, ".fill").size["width"] for b in bars]
        check(widths == sorted(widths, reverse=True) and widths[0] > 0, f"{name}: bars shrink with probability ({widths})")
        image = driver.find_element(By.ID, "prediction-image")
        check(driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 28,
              f"{name}: the image is shown beside the bars")
    screenshot(driver, shots, "02-prediction.png")
    section_screenshot(driver, shots, "web-prediction.png", "classify-title")

    # 3. A short training job from the form.
    driver.execute_script("document.getElementById('train-title').scrollIntoView()")
    job = submit_job(driver, "browser-trained", "cnn-small", "hadamard", 3, 2000)
    check(job is not None, "the form started a job")
    if job:
        points = lambda d: int(d.find_element(By.ID, "loss-chart").get_attribute("data-points") or 0)
        final = lambda d: d.find_element(By.ID, "train-status").get_attribute("data-state") in ("succeeded", "failed", "cancelled")
        if wait(driver, args.training_seconds, lambda d: points(d) >= 2, "two points on the curves"):
            # A few more points make a curve worth looking at; not a check.
            try:
                WebDriverWait(driver, 30, poll_frequency=0.2).until(lambda d: points(d) >= 8 or final(d))
            except TimeoutException:
                pass
            log(f"live curve with {points(driver)} points")
            screenshot(driver, shots, "03-training.png")
            section_screenshot(driver, shots, "web-training.png", "train-title")
        finished = wait(driver, args.training_seconds,
                        lambda d: d.find_element(By.ID, "train-status").get_attribute("data-state") in ("succeeded", "failed", "cancelled"),
                        "the job finished")
        state = driver.find_element(By.ID, "train-status").get_attribute("data-state")
        check(finished and state == "succeeded", f"the job ended succeeded ({state}: {driver.find_element(By.ID, 'train-status').text})")
        count = int(driver.find_element(By.ID, "loss-chart").get_attribute("data-points") or 0)
        check(count >= 2, f"the curves have at least two points ({count})")
        check("test" in driver.find_element(By.ID, "accuracy-chart").get_attribute("aria-label"),
              "the accuracy chart reports test accuracy")
        wait(driver, 10, lambda d: job_row_state(d, job) == "succeeded", "the job list shows succeeded")
        wait(driver, 15, lambda d: "browser-trained" in d.find_element(By.ID, "models").text, "the new model is listed")
        driver.execute_script("document.getElementById('train-title').scrollIntoView()")
        screenshot(driver, shots, "04-trained.png")

    # 4. Cancel a long job with its button.
    job = submit_job(driver, "browser-cancelled", "cnn-small", "orthonormal", 50, 6000)
    check(job is not None, "the form started a second job")
    if job:
        button = wait(driver, 20, lambda d: (d.find_elements(By.CSS_SELECTOR, f'#jobs tr[data-job="{job}"] button') or [None])[0],
                      "a Cancel button for the job")
        if button:
            check(button.accessible_name.startswith("Cancel job"), f"the button is named ({button.accessible_name!r})")
            wait(driver, 30, lambda d: job_row_state(d, job) == "running", "the job is running")
            # A page opened while the job runs follows it.
            driver.refresh()
            check(wait(driver, 20, lambda d: job[:8] in d.find_element(By.ID, "train-status").text, "the reloaded page follows the job")
                  is not None, "a page opened during a job shows that job's progress")
            wait(driver, 20, lambda d: d.find_elements(By.CSS_SELECTOR, f'#jobs tr[data-job="{job}"] button'), "the Cancel button after reloading")
            driver.find_element(By.CSS_SELECTOR, f'#jobs tr[data-job="{job}"] button').click()
            wait(driver, 60, lambda d: job_row_state(d, job) == "cancelled", "the job list shows cancelled")
            with urllib.request.urlopen(f"{args.url}/v1/training/jobs/{job}", timeout=10) as response:
                served = json.load(response)["state"]
            check(served == "cancelled", f"the server says cancelled ({served})")
            driver.execute_script("document.getElementById('jobs-title').scrollIntoView()")
            screenshot(driver, shots, "05-cancelled.png")

    # 5. Accessibility and phone width.
    unlabelled = driver.execute_script("""
        return [...document.querySelectorAll("input, select, button, canvas")].filter((e) => {
          if (e.labels && e.labels.length) return false;
          if (e.getAttribute("aria-label")) return false;
          if (e.tagName === "BUTTON" && e.textContent.trim()) return false;
          return true;
        }).map((e) => e.id || e.outerHTML.slice(0, 60));""")
    check(not unlabelled, f"every control has a label ({unlabelled})")
    contrast = driver.execute_script("""
        const rgb = (s) => (s.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
        const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
                                     return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
        const background = (e) => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
                                    if (c && !c.endsWith(", 0)") && c !== "transparent") return c; } return "rgb(255, 255, 255)"; };
        const worst = [];
        for (const e of document.querySelectorAll("h1, h2, p, label, th, td, button, .hint, .status, option, a, figcaption")) {
          if (!e.offsetParent || !e.textContent.trim()) continue;
          const a = lum(rgb(getComputedStyle(e).color)), b = lum(rgb(background(e)));
          const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
          if (ratio < 4.5) worst.push(`${e.tagName}.${e.className}: ${ratio.toFixed(2)}`);
        }
        return worst;""")
    check(not contrast, f"text contrast is at least 4.5:1 ({contrast[:5]})")
    # Keyboard: Tab from the top reaches the file input, the form and the buttons.
    driver.execute_script("window.scrollTo(0, 0); document.activeElement.blur()")
    reached = set()
    for _ in range(60):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        reached.add(driver.execute_script("return document.activeElement.id"))
    needed = {"api-key", "refresh-models", "classify-model", "image-file", "train-model", "train-submit", "refresh-jobs"}
    check(needed <= reached, f"Tab reaches every control ({sorted(needed - reached)} missing)")

    # A phone's viewport (headless windows cannot be narrower than 500 px).
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    driver.get(args.url + "/")
    wait(driver, 30, lambda d: d.find_elements(By.CSS_SELECTOR, "#models tbody tr"), "models listed at phone width")
    overflow = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    check(overflow <= 1, f"no sideways scrolling at 390 px ({overflow} px too wide)")
    driver.find_element(By.ID, "image-file").send_keys(os.path.abspath(chosen[0][0]))
    wait(driver, 20, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#prediction-bars li")) == 5, "bars at phone width")
    driver.execute_script("document.getElementById('classify-title').scrollIntoView()")
    screenshot(driver, shots, "06-phone.png")


if __name__ == "__main__":
    sys.exit(main())
