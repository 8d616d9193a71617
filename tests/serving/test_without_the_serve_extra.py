"""Making a local policy must not need the `serve` extra: the `remote:` scheme registers with
every other policy scheme, and its websockets import waits until a remote policy is made."""

import subprocess
import sys

BLOCKED = '''
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "websockets":
            raise ImportError("no module named " + name)
sys.meta_path.insert(0, Block())
import gymnasium as gym, librobot_gym
from librobot_gym.policies import make_policy
env = gym.make("librobot/Franka-PickCup-v0", obs_mode="state")
print(type(make_policy("expert", env, seed=0)).__name__)
import librobot_gym.serving
try:
    librobot_gym.serving.PolicyServer
except ImportError as error:
    print("serving needs", error)
'''


def test_an_expert_policy_is_made_where_websockets_is_missing():
    done = subprocess.run([sys.executable, "-c", BLOCKED], capture_output=True, text=True,
                          timeout=120, env={"MUJOCO_GL": "egl", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    made, refused = done.stdout.splitlines()
    assert made == "ExpertPolicy"
    assert refused.startswith("serving needs no module named websockets")
