"""Heavy machines (excavator, wheel loader, articulated hauler): one folder each, and what the
articulated ones share (`articulated_drive_dims`)."""

from librobot_gym.robots.spec import ActionDim, DrivetrainSpec


def articulated_drive_dims(drivetrain: DrivetrainSpec, front: str) -> tuple[ActionDim, ...]:
    """The pedals, steering and shuttle of an articulated machine's `drive` mode, their
    descriptions from `drivetrain`'s numbers; `front`: what turns left on a positive angle
    ("the front frame", "the tractor unit")."""
    wheels = len(drivetrain.wheel_joints)
    per_axle = "" if wheels <= 4 else f" ({wheels}x{wheels})"
    brakes = "" if wheels <= 4 else f", {('six' if wheels == 6 else wheels)} wheels"
    limit = drivetrain.max_articulation
    return (
        ActionDim("throttle", "fraction", 0.0, 1.0,
                  f"accelerator pedal: 0 idle (no drive torque), 1 full; rimpull up to "
                  f"{drivetrain.max_rimpull / 1e3:.0f} kN, at most "
                  f"{drivetrain.efficiency * drivetrain.engine_power / 1e3:.0f} kW at the "
                  f"wheels{per_axle}"),
        ActionDim("brake", "fraction", 0.0, 1.0,
                  f"service brake pedal: 0 released, 1 full "
                  f"({drivetrain.brake_torque / 1e3:.0f} kN m per wheel{brakes})"),
        ActionDim("articulation", "rad", -limit, limit,
                  f"asked articulation angle, + turns {front} left; reached at <= "
                  f"{drivetrain.steer_rate:g} rad/s"),
        ActionDim("direction", "gear", -1.0, 1.0,
                  "shuttle lever: above +1/3 forward, below -1/3 reverse, between them neutral"),
    )
