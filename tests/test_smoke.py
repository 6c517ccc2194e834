def test_health(client):
    assert client.get("/openapi.json").status_code == 200
