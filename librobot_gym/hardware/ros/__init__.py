"""Mobile robots on ROS through rosbridge: the `ros:` driver (roslibpy), each robot's ROS
interfaces, and a rosbridge v2 emulator on loopback backed by a kinematic stand-in robot."""
