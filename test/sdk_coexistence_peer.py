"""aria.sdk and rclpy in one process: both Fast DDS copies loaded, SDK clients made, rclpy still talks."""

import aria.sdk as sdk
import rclpy
from std_msgs.msg import String

device_client = sdk.DeviceClient()
streaming_client = sdk.StreamingClient()
config = streaming_client.subscription_config
config.subscriber_data_type = sdk.StreamingDataType.Rgb | sdk.StreamingDataType.Slam
streaming_client.subscription_config = config

rclpy.init()
node = rclpy.create_node("sdk_coexistence")
received: list[str] = []
node.create_subscription(String, "/sdk_coexistence", lambda m: received.append(m.data), 10)
publisher = node.create_publisher(String, "/sdk_coexistence", 10)
for i in range(50):
    publisher.publish(String(data=str(i)))
    rclpy.spin_once(node, timeout_sec=0.05)
    if len(received) >= 20:
        break
print(f"received {len(received)}")
node.destroy_node()
rclpy.shutdown()
