/**
 * A small, typed, declarative way to define a pipeline from operators, with Kafka Streams' nouns:
 * a topology has one source, processors in a line, and sinks; `describe()` prints its graph.
 * Stages are factories of a runtime context, so one definition runs against any Redis, any
 * number of partitions, or a test's fakes of nothing but the context.
 */
import { type Observable, type OperatorFunction, pipe } from 'rxjs';

export type StageKind = 'source' | 'processor' | 'sink';

export interface StageDescription {
  kind: StageKind;
  name: string;
  description: string;
}

type Factory<Ctx, In, Out> = (context: Ctx) => OperatorFunction<In, Out>;

/**
 * @example
 * const topology = Topology.define<{ values: number[] }>('doubling')
 *   .source('numbers', (ctx) => from(ctx.values))
 *   .process('double', () => map((x: number) => x * 2))
 *   .sink('print', () => tap((x: number) => console.log(x)));
 * console.log(topology.describe());
 * topology.build({ values: [1, 2, 3] }).subscribe();
 */
export class Topology<Ctx, Out> {
  private constructor(
    readonly name: string,
    private readonly sourceFactory: (context: Ctx) => Observable<unknown>,
    private readonly stages: StageDescription[],
    private readonly factories: Factory<Ctx, unknown, unknown>[],
  ) {}

  /** Names a topology whose stages need a context of type `Ctx`; add its source next. */
  static define<Ctx>(name: string) {
    return {
      source<T>(stage: string, factory: (context: Ctx) => Observable<T>, description = ''): Topology<Ctx, T> {
        return new Topology<Ctx, T>(name, factory, [{ kind: 'source', name: stage, description }], []);
      },
    };
  }

  /** Adds a processor: any operator, from the context. */
  process<U>(name: string, factory: Factory<Ctx, Out, U>, description = ''): Topology<Ctx, U> {
    return this.add('processor', name, factory, description);
  }

  /** Adds a sink: an operator that writes somewhere and passes values on. */
  sink<U = Out>(name: string, factory: Factory<Ctx, Out, U>, description = ''): Topology<Ctx, U> {
    return this.add('sink', name, factory, description);
  }

  /** The stages in order. */
  stagesInOrder(): readonly StageDescription[] {
    return this.stages;
  }

  /** A readable graph of the stages, in the manner of Kafka Streams' `Topology.describe()`. */
  describe(): string {
    const lines = [`Topology: ${this.name}`];
    this.stages.forEach((stage, i) => {
      const label = stage.kind === 'source' ? 'Source' : stage.kind === 'sink' ? 'Sink' : 'Processor';
      lines.push(`  ${label}: ${stage.name}${stage.description ? ` (${stage.description})` : ''}`);
      const next = this.stages[i + 1];
      lines.push(`    --> ${next ? next.name : 'none'}`);
    });
    return lines.join('\n');
  }

  /** Wires the stages for a context; nothing runs until the result is subscribed. */
  build(context: Ctx): Observable<Out> {
    const operators = this.factories.map((factory) => factory(context));
    const source = this.sourceFactory(context);
    return (source.pipe as (...ops: OperatorFunction<unknown, unknown>[]) => Observable<unknown>)(
      pipe(...(operators as [OperatorFunction<unknown, unknown>])),
    ) as Observable<Out>;
  }

  private add<U>(
    kind: StageKind,
    name: string,
    factory: Factory<Ctx, Out, U>,
    description: string,
  ): Topology<Ctx, U> {
    if (this.stages.some((s) => s.name === name))
      throw new Error(`topology ${this.name}: stage '${name}' already exists`);
    return new Topology<Ctx, U>(
      this.name,
      this.sourceFactory,
      [...this.stages, { kind, name, description }],
      [...this.factories, factory as Factory<Ctx, unknown, unknown>],
    );
  }
}
