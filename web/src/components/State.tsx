/** Loading, empty and error states in words. */
import {
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Text,
} from '@fluentui/react-components';
import type { ReactNode } from 'react';
import type { Load } from '../load';

export function Loaded<T>(props: {
  load: Load<T>;
  what: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  const { load } = props;
  if (load.state === 'loading') return <Spinner size="small" label={`Loading ${props.what}…`} />;
  if (load.state === 'error')
    return (
      <MessageBar intent="error" role="alert">
        <MessageBarBody>
          <MessageBarTitle>Could not load {props.what}.</MessageBarTitle>
          {load.error.message}
        </MessageBarBody>
      </MessageBar>
    );
  if (props.isEmpty?.(load.data))
    return <Text role="status">{props.empty ?? `No ${props.what} yet.`}</Text>;
  return <>{props.children(load.data)}</>;
}

export function Failure(props: { error: Error | undefined }) {
  if (props.error === undefined) return null;
  return (
    <MessageBar intent="error" role="alert">
      <MessageBarBody>{props.error.message}</MessageBarBody>
    </MessageBar>
  );
}
