"""The demo commons' federated learning: three clinics' nodes, and the queued run the worker completes."""

from sqlalchemy import select

from aicommons.app import job_handlers
from aicommons.core.blobs import BlobStore
from aicommons.core.db import unit_of_work
from aicommons.core.jobs import Worker
from aicommons.demo import CLINICS, DEMO_RUN, FEDERATED_PROBLEM, seed
from aicommons.federation import nodes as federation_nodes
from aicommons.federation.models import Node
from aicommons.members.models import Member


def test_the_demo_run_trains_on_three_clinics_and_rewards_who_runs_them(client, factory, settings):
    with unit_of_work(factory) as session:
        seed(session, store=BlobStore(settings.blob_dir))
    nodes = client.get(f"/api/v1/problems/{FEDERATED_PROBLEM}/nodes").json()
    assert [node["name"] for node in nodes] == [name for name, _ in CLINICS]
    assert len({node["rows"] for node in nodes}) == 3  # non-IID parts of different sizes
    queued = client.get(f"/api/v1/problems/{FEDERATED_PROBLEM}/runs").json()
    assert [run["state"] for run in queued] == ["queued"]
    with factory() as db:  # an organizer of the nurses' circle may add a node of its dataset
        grace = db.scalar(select(Member).where(Member.handle == "grace"))
        offered = federation_nodes.node_datasets(session=db, member=grace)
    assert [dataset.slug for dataset in offered] == ["diabetes-progression"]

    worker = Worker(factory, job_handlers(settings), heartbeat_seconds=5, timeout_seconds=600)
    while worker.run_once() is not None:
        pass
    run = client.get(f"/api/v1/runs/{queued[0]['id']}").json()
    assert (run["state"], len(run["completed_rounds"])) == ("succeeded", DEMO_RUN["rounds"])
    rmse = [one["metrics"]["rmse"] for one in run["completed_rounds"]]
    assert rmse[-1] < 70  # from about 160 for the untrained model; the best baseline is about 55
    model = client.get(f"/api/v1/problems/{FEDERATED_PROBLEM}/models").json()[0]
    with factory() as db:
        runners = {node.owner_member.handle for node in db.scalars(select(Node))}
    assert runners == {handle for _, handle in CLINICS}
    assert len(model["contributors"]) >= 2 and abs(sum(c["share"] for c in model["contributors"]) - 1) < 1e-5
    assert client.get(f"/runs/{run['id']}", headers={"accept": "text/html"}).status_code == 200
    assert client.get(f"/models/{model['slug']}", headers={"accept": "text/html"}).status_code == 200
