"""`semantic cache ls|stats|verify|rm` on a directory written by a real server (tiny model)."""
import json
import subprocess

from conftest import BUILD
from test_kv_faults import PROMPT, block_files, tiny_server, tokens


def cli(*args):
    return subprocess.run([str(BUILD / "semantic"), "cache", *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def test_cache_cli_lists_verifies_and_removes(tmp_path):
    s = tiny_server(tmp_path, "pytest-cache-cli.log").start()
    tokens(s.base, agent="cli-a")
    tokens(s.base, prompt=PROMPT[:200] + [7] * 60, agent="cli-b")  # shares 12 blocks with cli-a
    s.stop()
    r = cli("ls", "--json", "--cache-dir", tmp_path)
    assert r.returncode == 0, r.stderr
    models = json.loads(r.stdout)["models"]
    assert len(models) == 1
    agents = {a["agent_id"]: a for a in models[0]["agents"]}
    assert set(agents) == {"cli-a", "cli-b"} and agents["cli-a"]["blocks"] >= 18
    assert "cli-a" in cli("ls", "--cache-dir", tmp_path).stdout
    assert "total: 1 models" in cli("stats", "--cache-dir", tmp_path).stdout
    r = cli("verify", "--cache-dir", tmp_path)
    assert r.returncode == 0 and " 0 bad" in r.stdout
    victim = block_files(tmp_path)[3]
    data = bytearray(victim.read_bytes())
    data[-5] ^= 0x40
    victim.write_bytes(bytes(data))
    r = cli("verify", "--cache-dir", tmp_path)
    assert r.returncode == 1 and "payload checksum" in r.stdout
    assert cli("verify", "--fix", "--cache-dir", tmp_path).returncode == 0
    assert not victim.exists()
    assert cli("verify", "--cache-dir", tmp_path).returncode == 0
    # Removing cli-a keeps the blocks cli-b shares.
    before = len(block_files(tmp_path))
    r = cli("rm", "cli-a", "--cache-dir", tmp_path)
    assert r.returncode == 0, r.stderr
    after = len(block_files(tmp_path))
    assert 0 < after < before
    assert cli("rm", "cli-a", "--cache-dir", tmp_path).returncode == 1
    assert cli("rm", "../etc", "--cache-dir", tmp_path).returncode == 1
    assert cli("rm", "--cache-dir", tmp_path).returncode == 2
    assert cli("rm", "--all", "--cache-dir", tmp_path).returncode == 0
    assert block_files(tmp_path) == []
    # A server on the emptied directory starts cold and works.
    s.start()
    assert tokens(s.base, agent="cli-b")[1] == 0
    s.stop()
