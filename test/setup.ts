// Registers the aws-sdk-client-mock matchers once for every unit test.
import 'aws-sdk-client-mock-vitest/extend';
