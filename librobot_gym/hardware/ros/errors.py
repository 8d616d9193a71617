"""The faults a ROS robot reports through rosbridge, each a typed `DriverError`: the robot has
been stopped (a zero twist, its trajectories cancelled) when one is raised, and the env's next
`reset()` reconnects and re-arms once the cause is gone."""

from librobot_gym.hardware.driver import DriverDisconnected, DriverError, RobotFault


class RosLinkDropped(DriverDisconnected):
    """The rosbridge websocket closed or stopped answering; check the network and that
    `rosbridge_websocket` runs on the robot, then reset (it reconnects)."""


class StaleJointStates(DriverError):
    """/joint_states (or the odometry) stopped arriving: the robot's state is too old to act
    on; check the robot's drivers (`rostopic hz /joint_states`), then reset."""


class ActionAborted(RobotFault):
    """A trajectory, head or gripper action was aborted by its controller (a path tolerance,
    a collision, a controller switched off); check the robot, then reset."""


class ActionPreempted(RobotFault):
    """Someone else's goal (a teleop, another client) preempted ours on a controller; stop
    the other client, then reset."""


class RunStopPressed(RobotFault):
    """The robot's run-stop (e-stop) is pressed: the motors are off; release it, then reset."""
