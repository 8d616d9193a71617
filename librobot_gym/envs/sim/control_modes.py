"""Control mode name -> the class that implements it in MuJoCo: the arms' joint and end-effector
controllers (`controllers.py`), the hydraulic machines' valves (`hydraulics.py`) and the wheeled
machines' drivetrain (`drivetrain.py`)."""

from librobot_gym.envs.sim.controllers import EeDeltaPoseController, JointPosController
from librobot_gym.envs.sim.drivetrain import DriveController, WheeledMachineController
from librobot_gym.envs.sim.hydraulics import HydraulicController


def controllers() -> dict[str, type]:
    """Control mode name -> the class that implements it in MuJoCo."""
    return {"joint_pos": JointPosController, "ee_delta_pose": EeDeltaPoseController,
            "hydraulic": HydraulicController, "drive": DriveController,
            "drive+hydraulic": WheeledMachineController,
            "drive+dump": WheeledMachineController}
