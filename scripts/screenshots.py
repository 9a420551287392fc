#!/usr/bin/env python3
"""Retakes the README's screenshots (docs/screenshots/*.png) from a running demo shop.

Start the demo first (`JOREN_ADDR=127.0.0.1:18080 joren demo`), then run this from the
repository's root; it drives headless Chromium through chromedriver (both installed by
.ci/run), signs in as the owner and saves the home page and the dashboard.
Only the standard library: WebDriver is plain HTTP and JSON.
"""
import base64
import json
import subprocess
import sys
import time
import urllib.request

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18080"
DRIVER = "http://127.0.0.1:19515"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(DRIVER + path, method=method, data=data, headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))["value"]


def main():
    driver = subprocess.Popen(["chromedriver", "--port=19515"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    try:
        args = ["--headless=new", "--no-sandbox", "--window-size=1100,1250", "--lang=ja"]
        session = call("POST", "/session", {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"args": args}}}})
        s = session["sessionId"]

        def element(css):
            return call("POST", f"/session/{s}/element", {"using": "css selector", "value": css})[ELEMENT]

        call("POST", f"/session/{s}/url", {"url": BASE + "/login"})
        call("POST", f"/session/{s}/element/{element('#username')}/value", {"text": "owner"})
        call("POST", f"/session/{s}/element/{element('#password')}/value", {"text": "joren-demo"})
        call("POST", f"/session/{s}/element/{element('#login-submit')}/click", {})
        time.sleep(1)
        for page, name in [("/", "home"), ("/dashboard", "dashboard")]:
            call("POST", f"/session/{s}/url", {"url": BASE + page})
            time.sleep(1.5)
            png = base64.b64decode(call("GET", f"/session/{s}/screenshot"))
            with open(f"docs/screenshots/{name}.png", "wb") as f:
                f.write(png)
            print(f"docs/screenshots/{name}.png", len(png), "bytes")
        call("DELETE", f"/session/{s}")
    finally:
        driver.kill()


if __name__ == "__main__":
    main()
