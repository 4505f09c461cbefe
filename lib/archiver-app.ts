// Builds the archiver app: config from context and environment, the stack, and the cdk-nag AwsSolutions checks.
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ArchiverStack } from './archiver-stack.ts';
import { loadStackConfig } from './stack-config.ts';

/**
 * Adds the stack to `app`; throws StackConfigError on bad configuration.
 * @example buildArchiverApp(new App(), process.env)
 */
export function buildArchiverApp(app: App, env: Record<string, string | undefined>): ArchiverStack {
  const config = loadStackConfig((key) => app.node.tryGetContext(key), env);
  const stack = new ArchiverStack(app, config.stackName, {
    config,
    description: 'submodel-archiver: capture and archive SubModel/RunPod serverless results',
    // Set from the CLI's credentials when there are any. Without them the template is environment-agnostic:
    // every ARN the stack builds uses the AWS::Partition, AWS::Region and AWS::AccountId of wherever it deploys.
    env: { account: env.CDK_DEFAULT_ACCOUNT, region: env.CDK_DEFAULT_REGION },
    tags: { project: 'submodel-archiver' },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
