"""The two ways a monitor's jobs run: standalone (Step Functions) and native (SageMaker Model Monitor)."""
