"""`semantic serve` configuration errors name the key and its source and exit non-zero before
anything is loaded; `semantic config` shows where each effective value came from."""
import os
import subprocess

from conftest import BUILD


def run(args, env=None, timeout=30):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([str(BUILD / "semantic")] + args, capture_output=True, text=True,
                          env=e, timeout=timeout)


def test_bad_flag_value_names_the_flag():
    r = run(["serve", "--port", "70000"])
    assert r.returncode != 0
    assert "port" in (r.stderr + r.stdout)


def test_bad_env_value_names_the_variable():
    r = run(["serve"], env={"SEMANTIC_SERVER__PORT": "eighty"})
    assert r.returncode == 2
    assert "SEMANTIC_SERVER__PORT" in r.stderr and "server.port" in r.stderr


def test_unknown_key_in_file_names_file_and_line(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[server]\nport = 8001\nprot = 3\n")
    r = run(["serve", "--config", str(f)])
    assert r.returncode == 2
    assert f"{f}:3" in r.stderr and "prot" in r.stderr


def test_config_shows_sources(tmp_path):
    f = tmp_path / "ok.toml"
    f.write_text("[server]\nport = 8001\n")
    r = run(["config", "--config", str(f), "--host", "127.0.0.2"],
            env={"SEMANTIC_MODEL__CONTEXT_LENGTH": "4096"})
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "8001" in out and f"file:{f}:2" in out
    assert "127.0.0.2" in out and "flag:--host" in out
    assert "4096" in out and "env:SEMANTIC_MODEL__CONTEXT_LENGTH" in out
