import type { Command } from 'commander';
import { stringify } from 'yaml';
import { controlPlaneManifests, crds } from '../../../libs/kubernetes/install.ts';
import { KUMA_VERSION } from '../../../libs/platform/version.ts';
import { writeOut } from '../context.ts';

/** Objects as one multi-document YAML stream, for `kubectl apply -f -`. */
const documents = (objects: readonly unknown[]): string => objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');

export function registerInstall(program: Command): void {
  const install = program.command('install').description('Install various Kuma components.');

  install
    .command('crds')
    .description('Install Kuma Custom Resource Definitions on Kubernetes (prints them: kumactl install crds | kubectl apply -f -)')
    .action(() => writeOut(documents(crds())));

  install
    .command('control-plane')
    .description('Install Kuma Control Plane on Kubernetes (prints the manifests: kumactl install control-plane | kubectl apply -f -)')
    .option('--namespace <namespace>', 'namespace to install Kuma Control Plane to', 'kuma-system')
    .option('--control-plane-image <image>', 'image of the Kuma Control Plane component', 'kuma-es/kuma-cp:0.1.0')
    .option('--dataplane-image <image>', 'image of the Kuma Dataplane component (kuma-dp)', 'kuma-es/kuma-dp:0.1.0')
    .option('--dataplane-init-image <image>', 'init image of the Kuma Dataplane component (transparent proxy)', `kuma/kuma-init:${KUMA_VERSION}`)
    .action(async (opts: { namespace: string; controlPlaneImage: string; dataplaneImage: string; dataplaneInitImage: string }) => {
      if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(opts.namespace)) throw new Error(`--namespace: "${opts.namespace}" is not a valid namespace name (a DNS-1123 label)`);
      const objects = await controlPlaneManifests({ namespace: opts.namespace, controlPlaneImage: opts.controlPlaneImage, dataplaneImage: opts.dataplaneImage, initImage: opts.dataplaneInitImage });
      writeOut(documents(objects));
    });
}
