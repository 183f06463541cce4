"""No acknowledged write is lost to a crash (issue 14, proofs).

The real server (`trellis serve`, waitress) on this run's database; several clients submit
check-in questionnaires (and a nurse records vital signs) while the server is killed with
SIGKILL several times and restarted. Afterwards every submission the server acknowledged (a
redirect to the thank-you page; a redirect back to the session) is stored exactly once and whole,
nothing is stored half, and `trellis audit verify` says ok.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time

import requests
from tests.reliability.conftest import Database, Server

LINKS = 24
VITALS = 16
KILLS = 3
PHQ9 = {f"item_{i}": "1" for i in range(1, 9)} | {"item_9": "0"}

SETUP = r"""
import json
from datetime import timedelta
from trellis.cli.django_env import setup_django
setup_django()
from django.utils import timezone
from tests.support import make_cast
from tests.dosing.conftest import certify, enrol, open_course, predose_values
from trellis.accounts.models import Role, Room, Site
from trellis.accounts.services import create_staff
from trellis.care import services as care
from trellis.checkin import services as checkin
from trellis.dosing import services as dosing

cast = make_cast()
care.FIRST_DOSE_FACT_PROVIDERS.append(lambda episode: {"safety_plan_on_file": True})
prescriber = create_staff(
    username="pia", password="correct horse battery", program=cast.program_a,
    roles=[Role.PRESCRIBER],
)
site = Site.objects.create(program=cast.program_a, name="Clinic A")
chair = Room.objects.create(site=site, name="Chair 1", kind=Room.Kind.DOSING_CHAIR)
certify(cast)
enrol(cast)
episode = open_course(cast)
session = dosing.start_session(cast.nurse_a, episode, chair=chair)
start = timezone.now() - timedelta(minutes=20)
predose_at = start - timedelta(minutes=12)
dosing.record_predose(cast.nurse_a, session, predose_values(start), now=predose_at)
dosing.sign_off_predose(prescriber, session)
dosing.start_dose(cast.nurse_a, session, lot_number="EK24A117", started_at=start)
tokens = [
    checkin.issue_link(
        cast.patient_a, purpose="assessments",
        payload={"due": [{"instrument": "phq9", "timepoint": "week_3"}]},
    )[1]
    for _ in range(%d)
]
print(json.dumps({"tokens": tokens, "session": str(session.pk)}))
"""

CHECK = r"""
import json
from trellis.cli.django_env import setup_django
setup_django()
from collections import Counter
from trellis.checkin.models import CheckInLink
from trellis.checkin.services import hash_token
from trellis.dosing.models import Observation
from trellis.measures.models import Assessment

tokens = json.loads(%r)
links = {l.token_hash: l.pk for l in CheckInLink.objects.all()}
per_link = Counter()
partial = 0
for a in Assessment.objects.all():
    link_pk = int(a.idempotency_key.split(":")[1])
    per_link[link_pk] += 1
    if len(a.answers) != 9 or a.total != 8:
        partial += 1
stored = {t: per_link.get(links[hash_token(t)], 0) for t in tokens}
all_obs = list(Observation.objects.all())
obs = Counter((o.heart_rate, o.systolic) for o in all_obs)
partial += sum(1 for o in all_obs if o.diastolic != 70 or o.spo2 != 98)
print(json.dumps({
    "stored": stored, "partial": partial, "assessments": sum(per_link.values()),
    "observations": {f"{k[0]}/{k[1]}": v for k, v in obs.items()},
}))
"""


def _submit(server: Server, token: str) -> bool:
    """True when the server acknowledged the submission (302 to the thank-you page)."""
    s = requests.Session()
    url = f"{server.base}/measures/c/{token}/phq9/week_3/"
    try:
        page = s.get(url, timeout=10)
        if page.status_code != 200:
            return False
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert csrf is not None
        response = s.post(
            url,
            {**PHQ9, "csrfmiddlewaretoken": csrf.group(1)},
            headers={"Referer": url},
            allow_redirects=False,
            timeout=10,
        )
    except requests.RequestException:
        return False
    return response.status_code == 302 and "/thanks/" in response.headers.get("Location", "")


def _nurse(server: Server) -> requests.Session | None:
    s = requests.Session()
    try:
        login = s.get(f"{server.base}/accounts/login/", timeout=10)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)
        assert csrf is not None
        r = s.post(
            f"{server.base}/accounts/login/",
            {
                "username": "nora",
                "password": "correct horse battery",
                "csrfmiddlewaretoken": csrf.group(1),
            },
            headers={"Referer": f"{server.base}/accounts/login/"},
            allow_redirects=False,
            timeout=10,
        )
    except requests.RequestException:
        return None
    return s if r.status_code == 302 else None


def _vital(server: Server, nurse: requests.Session, session_id: str, n: int) -> bool:
    url = f"{server.base}/dosing/sessions/{session_id}/observations/"
    at = time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() - 60))
    data = {
        "at": at,
        "systolic": str(110 + n % 20),
        "diastolic": "70",
        "heart_rate": str(60 + n // 20),
        "spo2": "98",
        "csrfmiddlewaretoken": nurse.cookies.get("csrftoken", ""),
    }
    try:
        r = nurse.post(url, data, headers={"Referer": url}, allow_redirects=False, timeout=10)
    except requests.RequestException:
        return False
    return r.status_code == 302


def test_acknowledged_writes_survive_kill_9(database: Database, server: Server) -> None:
    setup = database.python(SETUP % LINKS)
    assert setup.returncode == 0, setup.stderr[-2000:]
    data = json.loads(setup.stdout.strip().splitlines()[-1])
    tokens: list[str] = data["tokens"]
    server.start()

    acked: set[str] = set()
    vitals_acked: list[int] = []
    lock = threading.Lock()
    todo = list(tokens)
    random.Random(14).shuffle(todo)
    next_vital = iter(range(VITALS))

    def patient_client() -> None:
        while True:
            with lock:
                if not todo:
                    return
                token = todo.pop()
            if _submit(server, token):
                with lock:
                    acked.add(token)
            else:
                with lock:
                    todo.insert(0, token)  # a retry is safe: submissions are idempotent
                time.sleep(0.2)

    def nurse_client() -> None:
        nurse = None
        for n in next_vital:
            while nurse is None:
                nurse = _nurse(server)
                if nurse is None:
                    time.sleep(0.2)
            if _vital(server, nurse, data["session"], n):
                with lock:
                    vitals_acked.append(n)
            else:
                nurse = None  # no retry: an unacknowledged observation may or may not be stored

    def clients(n_patients: int) -> list[threading.Thread]:
        threads = [threading.Thread(target=patient_client) for _ in range(n_patients)]
        threads.append(threading.Thread(target=nurse_client))
        for t in threads:
            t.start()
        return threads

    threads = clients(4)
    for _ in range(KILLS):
        time.sleep(random.uniform(0.8, 2.0))
        server.kill()  # SIGKILL mid-stream: no shutdown, no flush
        time.sleep(0.3)
        server.start()
    for t in threads:
        t.join(timeout=240)
    assert not any(t.is_alive() for t in threads)
    server.kill()

    check = database.python(CHECK % json.dumps(tokens))
    assert check.returncode == 0, check.stderr[-2000:]
    result = json.loads(check.stdout.strip().splitlines()[-1])
    assert acked == set(tokens)  # every client got its answer in the end (after retries)
    assert all(result["stored"][t] == 1 for t in acked), result["stored"]
    assert result["partial"] == 0
    assert result["assessments"] == len(tokens)
    for n in vitals_acked:
        key = f"{60 + n // 20}/{110 + n % 20}"
        assert result["observations"].get(key) == 1, (n, result["observations"])
    assert len(vitals_acked) >= VITALS // 3  # the nurse's writes were really exercised
    verify = database.trellis("audit", "verify")
    assert (verify.returncode, verify.stdout.strip()) == (0, "ok"), verify.stdout + verify.stderr
