"""Control mode name -> the class that implements it in MuJoCo: the arms' joint and end-effector
controllers (`controllers.py`), the hydraulic machines' valves (`hydraulics.py`) and the wheeled
machines' drivetrain (`drivetrain.py`) and the differential-drive bases' twist
(`base_twist.py`), with an arm on top
(`mobile_manipulator.py`), and the humanoids' joint and upper-body modes (`humanoid.py`)."""

from librobot_gym.envs.sim.base_twist import BaseTwistController
from librobot_gym.envs.sim.controllers import EeDeltaPoseController
from librobot_gym.envs.sim.drivetrain import DriveController, WheeledMachineController
from librobot_gym.envs.sim.humanoid import (
    HumanoidJointPosController,
    HumanoidUpperBodyController,
)
from librobot_gym.envs.sim.humanoid_ee import HumanoidEeDeltaPoseController
from librobot_gym.envs.sim.humanoid_walk import HumanoidWalkController
from librobot_gym.envs.sim.hydraulics import HydraulicController
from librobot_gym.envs.sim.mobile_manipulator import (
    BaseTwistEeDeltaPoseController,
    joint_pos_controller,
)


def controllers(family: str | None = None) -> dict:
    """Control mode name -> the class (or factory, `joint_pos`: arms' or mobile manipulators')
    that implements it in MuJoCo; a humanoid's `joint_pos` (whole-body targets on a
    free-floating base) is its own (`family="humanoid"`)."""
    table = {"joint_pos": joint_pos_controller, "ee_delta_pose": EeDeltaPoseController,
            "hydraulic": HydraulicController, "drive": DriveController,
            "drive+hydraulic": WheeledMachineController,
            "base_twist": BaseTwistController,
            "base_twist+ee_delta_pose": BaseTwistEeDeltaPoseController,
            "drive+dump": WheeledMachineController,
            "upper_body": HumanoidUpperBodyController}
    if family == "humanoid":
        table["joint_pos"] = HumanoidJointPosController
        table["base_velocity"] = HumanoidWalkController
        table["ee_delta_pose"] = HumanoidEeDeltaPoseController  # both hands (humanoid_ee.py)
    return table
